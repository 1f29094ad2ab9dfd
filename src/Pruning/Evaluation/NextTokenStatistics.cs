using static TorchSharp.torch;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// Running sums over predicted tokens: negative log-likelihood of the true next token, agreement of the top-1
/// prediction with a reference model's, and KL(reference ‖ model) of the next-token distributions. Sums are kept in
/// double so long evaluations do not drift.
/// </summary>
public sealed class NextTokenStatistics
{
    public long Tokens { get; private set; }
    public double NegativeLogLikelihoodSum { get; private set; }
    public long ReferenceCount { get; private set; }
    public long AgreementCount { get; private set; }
    public double KlSum { get; private set; }

    public double MeanLoss => Tokens == 0 ? double.NaN : NegativeLogLikelihoodSum / Tokens;
    public double Perplexity => Math.Exp(MeanLoss);
    public double? Top1Agreement => ReferenceCount == 0 ? null : AgreementCount / (double)ReferenceCount;
    public double? MeanKl => ReferenceCount == 0 ? null : KlSum / ReferenceCount;

    /// <summary>Adds predictions <paramref name="logits"/> [B, T, vocab] of <paramref name="targets"/> [B, T] (int64).</summary>
    public void Add(Tensor logits, Tensor targets, Tensor? referenceLogits = null)
    {
        using var scope = NewDisposeScope();
        Tensor logProbabilities = logits.log_softmax(-1);
        Tensor picked = logProbabilities.gather(-1, targets.unsqueeze(-1));
        NegativeLogLikelihoodSum -= picked.to(ScalarType.Float64).sum().item<double>();
        Tokens += targets.numel();
        if (referenceLogits is null) return;
        Tensor referenceLogProbabilities = referenceLogits.log_softmax(-1);
        AgreementCount += logits.argmax(-1).eq(referenceLogits.argmax(-1)).sum().item<long>();
        KlSum += Kl(referenceLogProbabilities, logProbabilities).to(ScalarType.Float64).sum().item<double>();
        ReferenceCount += targets.numel();
    }

    /// <summary>KL(p ‖ q) per position from log-probabilities [..., vocab]: Σ p (log p − log q).</summary>
    public static Tensor Kl(Tensor referenceLogProbabilities, Tensor logProbabilities)
    {
        using var scope = NewDisposeScope();
        Tensor perPosition = (referenceLogProbabilities.exp() * (referenceLogProbabilities - logProbabilities)).sum(-1);
        return perPosition.MoveToOuterDisposeScope();
    }
}
