using LlamaCppPeer.LlamaCpp;
using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using TorchSharp;

namespace LlamaCppPeer.Measurement;

/// <summary>
/// llama.cpp's logits against PdServe's for the same prompt: the prompt's last position, then every step of a
/// greedy continuation for as long as both chose the same tokens.
/// </summary>
public sealed record LogitsCheckResult(
    int PromptTokens,
    float PrefillMaxAbsDifference,
    float MaxAbsDifference,
    int ComparedSteps,
    float MaxAbsLogit,
    IReadOnlyList<int> PdServeGreedy,
    IReadOnlyList<int> LlamaCppGreedy)
{
    /// <summary>
    /// Allowed difference relative to the largest logit. Both engines compute in fp32 here, so only summation order
    /// differs (about 1e-5 of the logits); q and k rotated as the wrong pairs move logits by a large fraction of their range.
    /// </summary>
    public const float RelativeTolerance = 1e-3f;

    public bool GreedyEqual => PdServeGreedy.SequenceEqual(LlamaCppGreedy);

    public bool WithinTolerance => MaxAbsDifference <= RelativeTolerance * Math.Max(1f, MaxAbsLogit);
}

public static class LogitsCheck
{
    public static LogitsCheckResult Run(LlamaCppSession llama, CausalLm pdserve, IReadOnlyList<int> prompt, int continuation)
    {
        using KvCache cache = pdserve.CreateCache(1, prompt.Count + continuation);
        float[] expected = ToArray(pdserve.Prefill(prompt, cache, 0));
        llama.Clear();
        llama.Prefill(prompt, 0);
        float[] actual = llama.Logits(prompt.Count - 1);

        float prefillDifference = MaxAbsDifference(expected, actual);
        float difference = prefillDifference;
        float maxAbsLogit = expected.Max(MathF.Abs);
        int compared = 1;
        var pdserveTokens = new List<int>();
        var llamaTokens = new List<int>();
        bool diverged = false;
        for (int step = 0; step < continuation; step++)
        {
            int pdserveToken = ArgMax(expected), llamaToken = ArgMax(actual);
            pdserveTokens.Add(pdserveToken);
            llamaTokens.Add(llamaToken);
            if (step == continuation - 1) break;
            int position = prompt.Count + step;
            expected = ToArray(pdserve.DecodeStep([pdserveToken], [position], cache));
            llama.Step([llamaToken], [position]);
            actual = llama.Logits(0);
            // From the first different token on the two continue different texts; their logits no longer compare.
            diverged |= pdserveToken != llamaToken;
            if (diverged) continue;
            difference = Math.Max(difference, MaxAbsDifference(expected, actual));
            maxAbsLogit = Math.Max(maxAbsLogit, expected.Max(MathF.Abs));
            compared++;
        }
        return new LogitsCheckResult(prompt.Count, prefillDifference, difference, compared, maxAbsLogit, pdserveTokens, llamaTokens);
    }

    private static float[] ToArray(torch.Tensor logits)
    {
        using (logits) return logits.reshape(-1).data<float>().ToArray();
    }

    private static float MaxAbsDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new InvalidOperationException($"vocabularies differ: {a.Length} and {b.Length} logits");
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
