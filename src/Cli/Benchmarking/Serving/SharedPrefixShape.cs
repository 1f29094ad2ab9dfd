namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>shared-prefix</c> dataset (<c>--prefix-tokens</c>, <c>--suffix-tokens</c>): every request starts with the
/// same long prefix and ends with a suffix of its own, as requests sharing one long instruction or document do.
/// </summary>
public sealed record SharedPrefixShape
{
    public int PrefixTokens { get; init; } = 1024;
    public int SuffixTokens { get; init; } = 64;
}
