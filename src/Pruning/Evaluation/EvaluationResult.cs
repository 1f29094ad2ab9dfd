namespace PdServe.Pruning.Evaluation;

/// <summary>
/// One configuration scored on held-out text: tokens evaluated, mean loss (nats per token), perplexity = exp(mean
/// loss), and, against the unpruned model on the same tokens, top-1 agreement and mean KL (null when it is the
/// unpruned model itself).
/// </summary>
public sealed record EvaluationResult(
    string Label,
    StagedPruning Pruning,
    long TokensEvaluated,
    double MeanLoss,
    double Perplexity,
    double? Top1Agreement,
    double? MeanKl);
