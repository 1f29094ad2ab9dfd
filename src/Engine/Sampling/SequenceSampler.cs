using PdServe.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PdServe.Engine.Sampling;

/// <summary>
/// One sequence's sampling state: its parameters and its own random generator, so a seeded request draws the
/// same tokens whatever else shares its batch.
/// </summary>
public sealed class SequenceSampler : IDisposable
{
    public SequenceSampler(SamplingParams parameters, ulong seed)
    {
        Parameters = parameters;
        Generator = parameters.IsGreedy ? null : new Generator(seed);
    }

    public SamplingParams Parameters { get; }
    internal Generator? Generator { get; }

    /// <summary>
    /// Draws a token from one row of logits [vocab] after temperature, top-k and top-p. <paramref name="rowMax"/> is
    /// the row's finite maximum: subtracting it before dividing by the temperature keeps every scaled logit in
    /// [-inf, 0] with the best token at 0, so no temperature the parameters allow overflows and the softmax always has
    /// a positive sum. Masked and -inf entries get probability 0. One call draws once from the generator whatever
    /// the parameters (see <see cref="SkipDraw"/>).
    /// </summary>
    internal long Draw(Tensor logits, float rowMax)
    {
        using var scope = NewDisposeScope();
        // Every scalar is held through its op (see HeldScalars).
        using Scalar max = rowMax.ToScalar(), temperature = Parameters.Temperature.ToScalar(), topP = Parameters.TopP.ToScalar();
        Tensor scaled = logits.sub(max).div(temperature);
        long vocab = scaled.shape[0];
        if (Parameters.TopK > 0 && Parameters.TopK < vocab)
        {
            // Ties with the k-th value stay: they are equally likely, so none of them is preferred.
            (Tensor topValues, _) = scaled.topk(Parameters.TopK);
            scaled = scaled.masked_fill(scaled.lt(topValues[Parameters.TopK - 1]), HeldScalars.NegativeInfinity);
        }
        if (Parameters.TopP < 1f)
        {
            (Tensor sorted, Tensor order) = scaled.sort(descending: true);
            Tensor probabilities = sorted.softmax(0);
            // Drop a token when the mass before it already reaches top_p; the most likely token always stays.
            Tensor massBefore = probabilities.cumsum(0).sub(probabilities);
            sorted = sorted.masked_fill(massBefore.ge(topP), HeldScalars.NegativeInfinity);
            long pick = sorted.softmax(0).multinomial(1, generator: Generator).item<long>();
            return order[pick].item<long>();
        }
        return scaled.softmax(0).multinomial(1, generator: Generator).item<long>();
    }

    /// <summary>
    /// Advances the random stream past one draw without drawing: for a sequence whose first token was drawn by
    /// another process from the same seed. A draw consumes the generator by the vocabulary size only (multinomial
    /// draws one exponential per entry, whatever the probabilities), so a draw from uniform weights of that size
    /// leaves the generator where the real draw did.
    /// </summary>
    internal void SkipDraw(long vocabSize)
    {
        if (Generator is null) return;
        using var scope = NewDisposeScope();
        ones(vocabSize).multinomial(1, generator: Generator);
    }

    public void Dispose() => Generator?.Dispose();
}
