using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace PdServe.Engine.Sampling;

/// <summary>Picks the next token of every sequence in a batch and reports the logprobs asked for.</summary>
public static class Sampler
{
    public const string NonFiniteLogitsMessage = "the model produced non-finite logits for this request";

    /// <summary>
    /// Samples every row, for a batch that fails as a whole (the n samples of one prompt): throws the first row's
    /// error, a <see cref="RequestFaultException"/> when its logits are not finite.
    /// </summary>
    /// <param name="logits">fp32 logits [B, vocab], row b belonging to <paramref name="samplers"/>[b].</param>
    public static SampledToken[] Sample(Tensor logits, IReadOnlyList<SequenceSampler> samplers)
    {
        SamplingOutcome[] outcomes = SampleEach(logits, samplers);
        foreach (SamplingOutcome outcome in outcomes)
        {
            if (outcome.Error is { } error) ExceptionDispatchInfo.Throw(error);
        }
        return outcomes.Select(o => o.Token!).ToArray();
    }

    /// <summary>
    /// Samples every row on its own: a row that cannot be sampled gets its error — a
    /// <see cref="RequestFaultException"/> when a logit is NaN or +inf or none is finite — and the others their tokens.
    /// </summary>
    /// <param name="logits">fp32 logits [B, vocab], row b belonging to <paramref name="samplers"/>[b].</param>
    public static SamplingOutcome[] SampleEach(Tensor logits, IReadOnlyList<SequenceSampler> samplers)
    {
        int batch = samplers.Count;
        int vocab = (int)logits.shape[1];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // The row maximum is finite exactly when the row can be sampled: it is NaN when any entry is, +inf when
        // any entry is, and -inf when no entry is finite.
        float[] rowMax = logits.amax(-1).data<float>().ToArray();
        Tensor logprobs = logits.log_softmax(-1);
        long[] greedy = logits.argmax(-1).data<long>().ToArray();

        var chosen = new long[batch];
        var errors = new Exception?[batch];
        for (int b = 0; b < batch; b++)
        {
            if (!float.IsFinite(rowMax[b]))
            {
                errors[b] = new RequestFaultException(NonFiniteLogitsMessage);
                continue;
            }
            try
            {
                chosen[b] = samplers[b].Parameters.IsGreedy ? greedy[b] : samplers[b].Draw(logits[b], rowMax[b]);
            }
            catch (Exception error)
            {
                errors[b] = error;
            }
        }

        // A failed row gathers entry 0; its values are never read.
        float[] chosenLogprobs = logprobs.gather(1, tensor(chosen).unsqueeze(1)).data<float>().ToArray();
        int maxTop = Math.Min(samplers.Max(s => s.Parameters.TopLogprobs), vocab);
        float[] topValues = [];
        long[] topIds = [];
        if (maxTop > 0)
        {
            (Tensor values, Tensor ids) = logprobs.topk(maxTop, -1);
            topValues = values.data<float>().ToArray();
            topIds = ids.data<long>().ToArray();
        }

        var outcomes = new SamplingOutcome[batch];
        for (int b = 0; b < batch; b++)
        {
            if (errors[b] is { } error)
            {
                outcomes[b] = SamplingOutcome.Failed(error);
                continue;
            }
            int wanted = Math.Min(samplers[b].Parameters.TopLogprobs, vocab);
            var top = new TokenLogprob[wanted];
            for (int i = 0; i < wanted; i++) top[i] = new TokenLogprob((int)topIds[b * maxTop + i], topValues[b * maxTop + i]);
            outcomes[b] = SamplingOutcome.Of(new SampledToken((int)chosen[b], chosenLogprobs[b], top));
        }
        return outcomes;
    }
}
