using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using static TorchSharp.torch;

namespace PdServe.Training.Trainer;

/// <summary>Writes a trained model's weights as the model.safetensors the server loads (bf16 by default: half the bytes).</summary>
public static class ServingExport
{
    public static void WriteWeights(string modelDirectory, CausalLm model, ScalarType dtype = ScalarType.BFloat16)
    {
        Dictionary<string, Tensor> views = model.ExportWeights();
        var converted = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, view) in views) converted[name] = view.to(dtype).contiguous();
            SafeTensorsWriter.Write(Path.Combine(modelDirectory, SafeTensorsCheckpoint.SingleFileName), converted,
                new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (Tensor t in views.Values) t.Dispose();
            foreach (Tensor t in converted.Values) t.Dispose();
        }
    }
}
