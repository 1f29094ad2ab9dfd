using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using static TorchSharp.torch;

namespace PdServe.Pruning.Calibration;

/// <summary>
/// Runs the unpruned model over the calibration samples once, recording for every block the cosine similarity of its
/// input and output hidden states (per position, then averaged over prompt and continuation positions separately),
/// for every layer the attention share of continuation queries on the first F / last L prompt positions, and the
/// model's next-token log-probabilities as the reference for the search.
/// </summary>
public static class BlockCalibration
{
    public static CalibrationResult Run(CausalLm model, CalibrationSet samples, IProgress<double>? progress = null,
        CancellationToken cancellation = default)
    {
        int blocks = model.Config.NumLayers;
        int prompt = samples.PromptTokens, total = samples.Options.SampleTokens;
        var kept = new KvPolicy(Enumerable.Range(0, blocks).ToArray(), samples.Options.First, samples.Options.Last, KvWireDtype.Float32);
        var similarity = new double[blocks, 3];
        var attention = new double[blocks, 4];
        long promptPositions = 0, continuationPositions = 0, continuationQueries = 0;
        var references = new List<Tensor>();
        using var firstMask = PositionMask(Enumerable.Range(0, Math.Min(samples.Options.First, prompt)), total);
        using var lastMask = PositionMask(Enumerable.Range(Math.Max(0, prompt - samples.Options.Last), Math.Min(samples.Options.Last, prompt)), total);
        using var keptMask = PositionMask(kept.KeptPositions(0, prompt), total);
        using var promptMask = PositionMask(Enumerable.Range(0, prompt), total);
        try
        {
            for (int b = 0; b < samples.Batches.Count; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                Tensor ids = samples.Batches[b];
                long batch = ids.shape[0];
                using var scope = NewDisposeScope();
                Tensor logits = model.ForwardPass(ids, new SequencePass
                {
                    RecordAttention = true,
                    OnBlock = activity =>
                    {
                        Tensor cosine = nn.functional.cosine_similarity(activity.Input, activity.Output, dim: -1).to(ScalarType.Float64);
                        similarity[activity.Block, 0] += cosine.narrow(1, 0, prompt).sum().item<double>();
                        similarity[activity.Block, 1] += cosine.narrow(1, prompt, total - prompt).sum().item<double>();
                        // Continuation queries' weights summed over queries and heads, per key position.
                        Tensor perKey = activity.AttentionWeights!.narrow(2, prompt, total - prompt).to(ScalarType.Float64).sum([0L, 1L, 2L]);
                        attention[activity.Block, 0] += (perKey * firstMask).sum().item<double>();
                        attention[activity.Block, 1] += (perKey * lastMask).sum().item<double>();
                        attention[activity.Block, 2] += (perKey * keptMask).sum().item<double>();
                        attention[activity.Block, 3] += (perKey * promptMask).sum().item<double>();
                    },
                });
                references.Add(logits.log_softmax(-1).DetachFromDisposeScope());
                promptPositions += batch * prompt;
                continuationPositions += batch * (total - prompt);
                continuationQueries += batch * (total - prompt) * model.Config.NumHeads;
                progress?.Report((b + 1) / (double)samples.Batches.Count);
            }
        }
        catch
        {
            foreach (Tensor t in references) t.Dispose();
            throw;
        }
        var similarities = Enumerable.Range(0, blocks).Select(i => new BlockSimilarity(i,
            similarity[i, 0] / promptPositions,
            similarity[i, 1] / continuationPositions,
            (similarity[i, 0] + similarity[i, 1]) / (promptPositions + continuationPositions))).ToArray();
        var shares = Enumerable.Range(0, blocks).Select(i => new LayerAttentionShare(i,
            attention[i, 0] / continuationQueries, attention[i, 1] / continuationQueries,
            attention[i, 2] / continuationQueries, attention[i, 3] / continuationQueries)).ToArray();
        return new CalibrationResult(similarities, shares, references);
    }

    /// <summary>1 at the given key positions of a [total] vector, 0 elsewhere.</summary>
    private static Tensor PositionMask(IEnumerable<int> positions, int total)
    {
        var mask = new double[total];
        foreach (int p in positions) mask[p] = 1;
        return tensor(mask);
    }
}
