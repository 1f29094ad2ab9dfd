using PdServe.Engine.Planning;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.Objectives;

namespace PdServe.Pruning.KvSelection;

/// <summary>
/// Chooses the layers whose prompt KV the decode stage reads only at the first F and last L positions. Candidates are
/// the layers decode runs, best covered first (<see cref="LayerAttentionShare.Coverage"/>, from the unpruned model's
/// calibration pass). <c>auto</c> keeps candidates with coverage ≥ the threshold and confirms them one at a time by the
/// measured decode loss: a layer stays only while the loss is within <c>ln(1 + budget)</c> of the loss without any KV
/// pruning (a perplexity increase of at most the budget). A count or list is taken as given and its loss reported.
/// </summary>
public static class KvLayerSelection
{
    /// <summary>One tried layer: its coverage, the decode loss with it added, and whether it was kept.</summary>
    public sealed record Trial(int Layer, double Coverage, double Loss, double Kl, bool Kept);

    public sealed record Result(KvPolicy Policy, double BaselineLoss, double FinalLoss, double FinalKl, IReadOnlyList<Trial> Trials);

    public static Result Select(KvLayerRequest request, IReadOnlyList<LayerAttentionShare> shares, IReadOnlySet<int> prefillSkip,
        IReadOnlySet<int> decodeSkip, int first, int last, double coverageThreshold, double perplexityBudget, StageObjective objective,
        IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        KvPolicy Policy(IEnumerable<int> layers) => new(layers.Order().ToArray(), first, last, KvWireDtype.Float32);
        var runLayers = shares.Where(s => !decodeSkip.Contains(s.Layer)).OrderByDescending(s => s.Coverage).ThenBy(s => s.Layer).ToArray();
        DecodeMeasurement baseline = objective.Decode(prefillSkip, decodeSkip, KvPolicy.KeepAll);
        var trials = new List<Trial>();
        var chosen = new List<int>();
        if (request.Layers is { } list)
        {
            foreach (int layer in list)
            {
                if (decodeSkip.Contains(layer) || layer < 0 || layer >= shares.Count)
                    throw new PruningInputException($"--kv-layers: layer {layer} is not run by the decode stage");
            }
            chosen.AddRange(list);
        }
        else if (request.Count is { } count)
        {
            if (count > runLayers.Length) throw new PruningInputException($"--kv-layers: {count} layers asked, decode runs {runLayers.Length}");
            chosen.AddRange(runLayers.Take(count).Select(s => s.Layer));
        }
        else
        {
            double allowedLoss = baseline.Loss + Math.Log(1 + perplexityBudget);
            var candidates = runLayers.Where(s => s.Coverage >= coverageThreshold).ToArray();
            for (int i = 0; i < candidates.Length; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                LayerAttentionShare candidate = candidates[i];
                DecodeMeasurement measured = objective.Decode(prefillSkip, decodeSkip, Policy([.. chosen, candidate.Layer]));
                bool keep = measured.Loss <= allowedLoss;
                if (keep) chosen.Add(candidate.Layer);
                trials.Add(new Trial(candidate.Layer, candidate.Coverage, measured.Loss, measured.Kl, keep));
                progress?.Report((i + 1) / (double)candidates.Length);
            }
        }
        KvPolicy policy = chosen.Count == 0 ? KvPolicy.KeepAll with { First = first, Last = last } : Policy(chosen);
        DecodeMeasurement final = objective.Decode(prefillSkip, decodeSkip, policy);
        return new Result(policy, baseline.Loss, final.Loss, final.Kl, trials);
    }
}
