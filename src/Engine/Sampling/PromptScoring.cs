using static TorchSharp.torch;

namespace PdServe.Engine.Sampling;

/// <summary>
/// Asks a prefill for the logprobs of the prompt's own tokens (OpenAI's echo + logprobs, vLLM's prompt_logprobs):
/// the prefill computes the logits of every prompt position, which a plain prefill skips, and fills
/// <see cref="Scores"/> with one entry per prompt token after the first.
/// </summary>
public sealed class PromptScoring(int topLogprobs, int rowsPerChunk = PromptScoring.DefaultRowsPerChunk)
{
    /// <summary>Bounds the [rows, vocab] float32 logits buffer for long prompts and large vocabularies (256 × 49k ≈ 50 MB).</summary>
    public const int DefaultRowsPerChunk = 256;

    public int TopLogprobs { get; } = topLogprobs >= 0 ? topLogprobs : throw new ArgumentOutOfRangeException(nameof(topLogprobs));
    /// <summary>Prompt positions whose logits are computed and scored at once.</summary>
    public int RowsPerChunk { get; } = rowsPerChunk >= 1 ? rowsPerChunk : throw new ArgumentOutOfRangeException(nameof(rowsPerChunk));

    /// <summary>Score of prompt token i + 1 at index i; empty until a prefill has run.</summary>
    public IReadOnlyList<PromptTokenScore> Scores => scores;

    private readonly List<PromptTokenScore> scores = [];

    /// <summary>Scores <paramref name="targets"/> under the fp32 logits [rows, vocab] of the positions just before them.</summary>
    internal void Add(Tensor logits, IReadOnlyList<int> targets)
    {
        using var scope = NewDisposeScope();
        long rows = logits.shape[0], vocab = logits.shape[1];
        if (rows != targets.Count) throw new ArgumentException($"{rows} logit rows for {targets.Count} targets");
        Tensor logprobs = logits.log_softmax(1);
        Tensor ids = tensor(targets.Select(t => (long)t).ToArray()).unsqueeze(1);
        Tensor chosen = logprobs.gather(1, ids);
        float[] chosenValues = chosen.data<float>().ToArray();
        // Rank as vLLM reports it: 1 + the number of tokens strictly more likely.
        long[] ranks = logprobs.gt(chosen).sum(1, type: ScalarType.Int64).data<long>().ToArray();
        int top = (int)Math.Min(TopLogprobs, vocab);
        float[] topValues = [];
        long[] topIds = [];
        if (top > 0)
        {
            (Tensor values, Tensor indices) = logprobs.topk(top, 1);
            topValues = values.data<float>().ToArray();
            topIds = indices.data<long>().ToArray();
        }
        for (int row = 0; row < rows; row++)
        {
            var alternatives = new TokenLogprob[top];
            for (int k = 0; k < top; k++) alternatives[k] = new TokenLogprob((int)topIds[row * top + k], topValues[row * top + k]);
            scores.Add(new PromptTokenScore(targets[row], chosenValues[row], (int)ranks[row] + 1, alternatives));
        }
    }
}
