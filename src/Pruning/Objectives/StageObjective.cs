using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.Evaluation;
using static TorchSharp.torch;

namespace PdServe.Pruning.Objectives;

/// <summary>
/// The search's objectives on the calibration samples, as KL(unpruned ‖ pruned) of next-token distributions averaged
/// over a stage's own positions: the prefill objective over prompt positions with the prefill stage's blocks; the
/// decode objective over the continuation positions decode predicts, with the prompt through the prefill stage and
/// the continuation through the decode stage reading that KV (<see cref="StagedForward"/>). Values are memoised per
/// configuration, and the prefill stage's KV is kept for the last prefill set, so the decode search reruns only the
/// continuation.
/// </summary>
public sealed class StageObjective(CausalLm model, CalibrationSet samples, CalibrationResult reference) : IDisposable
{
    private readonly StagedForward forward = new(model);
    private readonly Dictionary<string, double> prefillValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DecodeMeasurement> decodeValues = new(StringComparer.Ordinal);
    private string? cachedPrefillKey;
    private List<PromptPass> cachedPrompts = [];

    /// <summary>How many objective values were computed rather than recalled.</summary>
    public int Evaluations { get; private set; }

    public static string Key(IEnumerable<int> blocks) => string.Join(',', blocks.Order());

    /// <summary>Mean KL over prompt positions of the model without <paramref name="prefillSkip"/>.</summary>
    public double Prefill(IReadOnlySet<int> prefillSkip)
    {
        string key = Key(prefillSkip);
        if (prefillValues.TryGetValue(key, out double value)) return value;
        Evaluations++;
        int prompt = samples.PromptTokens;
        double sum = 0;
        long count = 0;
        for (int b = 0; b < samples.Batches.Count; b++)
        {
            using var scope = NewDisposeScope();
            Tensor ids = samples.Batches[b].narrow(1, 0, prompt);
            Tensor logProbabilities = model.ForwardPass(ids, new SequencePass { SkippedBlocks = prefillSkip }).log_softmax(-1);
            Tensor referencePrompt = reference.ReferenceLogProbabilities[b].narrow(1, 0, prompt);
            sum += NextTokenStatistics.Kl(referencePrompt, logProbabilities).to(ScalarType.Float64).sum().item<double>();
            count += ids.numel();
        }
        return prefillValues[key] = sum / count;
    }

    /// <summary>
    /// Mean KL and mean loss over the continuation positions decode predicts (every continuation position but the
    /// last, each predicting the next token), with the prompt KV from the prefill stage read through <paramref name="kv"/>.
    /// </summary>
    public DecodeMeasurement Decode(IReadOnlySet<int> prefillSkip, IReadOnlySet<int> decodeSkip, KvPolicy kv)
    {
        string key = $"{Key(prefillSkip)}|{Key(decodeSkip)}|{Key(kv.SelectedLayers)}/{kv.First}/{kv.Last}";
        if (decodeValues.TryGetValue(key, out DecodeMeasurement? value)) return value;
        Evaluations++;
        List<PromptPass> prompts = PromptPasses(prefillSkip);
        int prompt = samples.PromptTokens, decodeInputs = samples.Options.ContinuationTokens - 1;
        double kl = 0, loss = 0;
        long count = 0;
        for (int b = 0; b < samples.Batches.Count; b++)
        {
            using var scope = NewDisposeScope();
            Tensor inputs = samples.Batches[b].narrow(1, prompt, decodeInputs);
            Tensor targets = samples.Batches[b].narrow(1, prompt + 1, decodeInputs);
            Tensor logProbabilities = forward.RunContinuation(inputs, prompts[b], decodeSkip, kv).log_softmax(-1);
            Tensor referenceDecode = reference.ReferenceLogProbabilities[b].narrow(1, prompt, decodeInputs);
            kl += NextTokenStatistics.Kl(referenceDecode, logProbabilities).to(ScalarType.Float64).sum().item<double>();
            loss -= logProbabilities.gather(-1, targets.unsqueeze(-1)).to(ScalarType.Float64).sum().item<double>();
            count += inputs.numel();
        }
        return decodeValues[key] = new DecodeMeasurement(kl / count, loss / count);
    }

    private List<PromptPass> PromptPasses(IReadOnlySet<int> prefillSkip)
    {
        string key = Key(prefillSkip);
        if (key == cachedPrefillKey) return cachedPrompts;
        DisposePrompts();
        cachedPrompts = samples.Batches.Select(batch =>
        {
            using var scope = NewDisposeScope();
            return forward.RunPrompt(batch.narrow(1, 0, samples.PromptTokens), prefillSkip);
        }).ToList();
        cachedPrefillKey = key;
        return cachedPrompts;
    }

    private void DisposePrompts()
    {
        foreach (PromptPass pass in cachedPrompts) pass.Dispose();
        cachedPrompts = [];
        cachedPrefillKey = null;
    }

    public void Dispose() => DisposePrompts();
}
