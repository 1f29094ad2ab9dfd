using System.Security.Cryptography;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using static TorchSharp.torch;

namespace PdServe.Pruning.Healing;

/// <summary>
/// Writes a healed stage's kept blocks (bfloat16, Hugging Face names) to a safetensors file beside the plan —
/// <c>NAME.prefill.safetensors</c>, <c>NAME.decode.safetensors</c> for <c>NAME.json</c> — and returns the plan entry
/// that names and fingerprints it.
/// </summary>
public static class HealedWeightsFile
{
    public static PrunePlan.HealedStage Write(string planPath, string stage, CausalLm model, IReadOnlySet<int> skip)
    {
        string full = Path.GetFullPath(planPath);
        string name = $"{Path.GetFileNameWithoutExtension(full)}.{stage}.safetensors";
        string path = Path.Combine(Path.GetDirectoryName(full)!, name);
        var kept = model.Blocks.Where(b => !skip.Contains(b.Index)).Select(b => LlamaTensorNames.LayerPrefix(b.Index) + ".").ToArray();
        Dictionary<string, Tensor> weights = model.ExportBlockWeights();
        var selected = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensorName, tensor) in weights)
            {
                if (kept.Any(prefix => tensorName.StartsWith(prefix, StringComparison.Ordinal)))
                    selected[tensorName] = tensor.to(ScalarType.BFloat16).contiguous();
            }
            string temporary = path + ".tmp";
            SafeTensorsWriter.Write(temporary, selected);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            foreach (Tensor tensor in weights.Values.Concat(selected.Values)) tensor.Dispose();
        }
        string sha256;
        using (FileStream stream = File.OpenRead(path)) sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new PrunePlan.HealedStage { File = name, Sha256 = sha256 };
    }
}
