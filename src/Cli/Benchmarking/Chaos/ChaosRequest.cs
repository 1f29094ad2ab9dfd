namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// One request of the chaos run: its <c>/v1/completions</c> body (streamed, with usage), the poison variant it is (null
/// for ordinary load) and, for a stream the client cancels on purpose, after how many text chunks.
/// </summary>
public sealed record ChaosRequest(IReadOnlyDictionary<string, object> Body, string? Poison, int? CancelAfterChunks)
{
    public int Choices => Body.TryGetValue("n", out var n) ? (int)n : 1;
}
