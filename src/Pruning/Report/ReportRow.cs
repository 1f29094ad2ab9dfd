namespace PdServe.Pruning.Report;

/// <summary>One evaluated configuration in the quality report.</summary>
public sealed record ReportRow(
    string Method,
    IReadOnlyList<int> PrefillSkip,
    IReadOnlyList<int> DecodeSkip,
    IReadOnlyList<int> KvLayers,
    double Perplexity,
    double MeanLoss,
    double? Top1Agreement,
    double? MeanKl,
    long Tokens)
{
    public const string Unpruned = "unpruned";
    public const string ShortGpt = "ShortGPT";
    public const string PdServe = "PdServe";
    public const string PdServeWithKv = "PdServe + KV";
    public const string ShortGptHealed = "ShortGPT + heal";
    public const string ShortGptWithKv = "ShortGPT + KV";
    public const string ShortGptHealedWithKv = "ShortGPT + heal + KV";
    public const string PdServeHealed = "PdServe + heal";
    public const string PdServeHealedWithKv = "PdServe + heal + KV";
}
