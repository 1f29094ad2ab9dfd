namespace PdServe.Pruning.Report;

/// <summary>
/// One configuration's stage speeds from <c>pdserve bench engine [--plan]</c> (medians over interleaved rounds): the prefill
/// stage's prompt tokens per second and the decode stage's tokens per second at batch 1 and 16 with the decode nodes'
/// kernel, and each over the unpruned model's in the same run.
/// </summary>
public sealed record StageSpeed(
    string Configuration,
    int PrefillSkip,
    int DecodeSkip,
    double PrefillTokensPerSecond,
    double DecodeBatch1TokensPerSecond,
    double DecodeBatch16TokensPerSecond,
    double PrefillSpeedup,
    double DecodeBatch1Speedup,
    double DecodeBatch16Speedup);
