namespace PdServe.Pruning.Report;

/// <summary>One <c>pdserve prune --eval</c> run in the report: its (K_P, K_D), the plan, the held-out text and the rows.</summary>
public sealed record ReportRun(
    int PrefillSkip,
    int DecodeSkip,
    string PlanFile,
    string EvalFile,
    string EvalSha256,
    int PromptTokens,
    double KvBytesRatio,
    string Command,
    IReadOnlyList<ReportRow> Rows);
