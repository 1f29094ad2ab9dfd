using PdServe.Pruning.Evaluation;

namespace PdServe.Pruning.Healing;

/// <summary>
/// Healed stage weights and what it took: steps, tokens and time, and the distillation loss (mean KL to the unpruned
/// model per scored token) on the held-back windows before and after. Owns the stage models.
/// </summary>
public sealed record HealingResult(StageModels Models, int Steps, long TrainedTokens, double Seconds, double HeldLossBefore, double HeldLossAfter,
    double LastTrainLoss) : IDisposable
{
    public void Dispose()
    {
        Models.Prefill.Dispose();
        if (!ReferenceEquals(Models.Decode, Models.Prefill)) Models.Decode.Dispose();
    }
}
