using static TorchSharp.torch;

namespace PdServe.Engine.Sampling;

/// <summary>Picks the next token of every sequence in a batch and reports the logprobs asked for.</summary>
public static class Sampler
{
    /// <param name="logits">fp32 logits [B, vocab], row b belonging to <paramref name="samplers"/>[b].</param>
    public static SampledToken[] Sample(Tensor logits, IReadOnlyList<SequenceSampler> samplers)
    {
        int batch = samplers.Count;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logprobs = logits.log_softmax(-1);
        long[] greedy = logits.argmax(-1).data<long>().ToArray();
        var chosen = new long[batch];
        for (int b = 0; b < batch; b++)
            chosen[b] = samplers[b].Parameters.IsGreedy ? greedy[b] : samplers[b].Draw(logits[b]);

        float[] chosenLogprobs = logprobs.gather(1, tensor(chosen).unsqueeze(1)).data<float>().ToArray();
        int maxTop = samplers.Max(s => s.Parameters.TopLogprobs);
        float[] topValues = [];
        long[] topIds = [];
        if (maxTop > 0)
        {
            (Tensor values, Tensor ids) = logprobs.topk(maxTop, -1);
            topValues = values.data<float>().ToArray();
            topIds = ids.data<long>().ToArray();
        }

        var result = new SampledToken[batch];
        for (int b = 0; b < batch; b++)
        {
            int wanted = samplers[b].Parameters.TopLogprobs;
            var top = new TokenLogprob[wanted];
            for (int i = 0; i < wanted; i++) top[i] = new TokenLogprob((int)topIds[b * maxTop + i], topValues[b * maxTop + i]);
            result[b] = new SampledToken((int)chosen[b], chosenLogprobs[b], top);
        }
        return result;
    }
}
