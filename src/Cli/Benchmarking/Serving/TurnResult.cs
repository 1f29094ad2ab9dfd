using System.Globalization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// One turn index of a multiturn rate (<see cref="Turn"/> "1", "2", …), or every turn from the second on pooled
/// ("2+", where reuse can pay): requests sent and completed, TTFT, and per completed request the prompt tokens and
/// the server's reuse counts. Means of a count cover the completed requests whose server reported it, and are null
/// when none did (a server without prefix cache or KV reuse); a hit is a request with any cached or reused prompt token.
/// </summary>
public sealed record TurnResult
{
    public const string LaterTurns = "2+";

    public required string Turn { get; init; }
    public required int Requests { get; init; }
    public required int Completed { get; init; }
    public required LatencySummary TtftMs { get; init; }
    public double? MeanPromptTokens { get; init; }
    /// <summary>Prompt tokens the prefill node computed: prompt − cached.</summary>
    public double? MeanPromptTokensComputed { get; init; }
    /// <summary>Leading prompt tokens from the prefill node's prefix cache (<c>prompt_tokens_details.cached_tokens</c>).</summary>
    public double? MeanCachedTokens { get; init; }
    /// <summary>Leading prompt tokens whose KV the decode node already held (<c>kv_transfer.reused_prompt_tokens</c>).</summary>
    public double? MeanReusedPromptTokens { get; init; }
    public double? MeanKvBytesFull { get; init; }
    public double? MeanKvBytesSent { get; init; }
    public double? MeanKvBytesReused { get; init; }
    /// <summary>Share of completed requests with cached or reused prompt tokens.</summary>
    public double? HitShare { get; init; }

    /// <summary>A row per turn index, then the "2+" row when there is a second turn.</summary>
    public static IReadOnlyList<TurnResult> PerTurn(IReadOnlyList<RequestOutcome> outcomes)
    {
        var turns = outcomes.Where(o => o.Turn is not null).GroupBy(o => o.Turn!.Value).OrderBy(g => g.Key)
            .Select(g => Of(g.Key.ToString(CultureInfo.InvariantCulture), g.ToList())).ToList();
        var later = outcomes.Where(o => o.Turn >= 2).ToList();
        if (later.Count > 0) turns.Add(Of(LaterTurns, later));
        return turns;
    }

    public static TurnResult Of(string turn, IReadOnlyList<RequestOutcome> outcomes)
    {
        var ok = outcomes.Where(o => o.Success).ToList();
        var cached = ok.Where(o => o.CachedTokens is not null).ToList();
        var kv = ok.Where(o => o.KvTransfer is not null).ToList();
        var reported = ok.Where(o => o.CachedTokens is not null || o.KvTransfer is not null).ToList();
        return new TurnResult
        {
            Turn = turn,
            Requests = outcomes.Count,
            Completed = ok.Count,
            TtftMs = LatencySummary.Of(ok.Where(o => o.TtftMs is not null).Select(o => o.TtftMs!.Value)),
            MeanPromptTokens = Mean(ok, o => o.PromptTokens),
            MeanPromptTokensComputed = Mean(cached, o => o.PromptTokens - o.CachedTokens!.Value),
            MeanCachedTokens = Mean(cached, o => o.CachedTokens!.Value),
            MeanReusedPromptTokens = Mean(kv, o => o.KvTransfer!.ReusedPromptTokens),
            MeanKvBytesFull = Mean(kv, o => o.KvTransfer!.BytesFull),
            MeanKvBytesSent = Mean(kv, o => o.KvTransfer!.BytesSent),
            MeanKvBytesReused = Mean(kv, o => o.KvTransfer!.BytesReused),
            HitShare = reported.Count == 0 ? null : (double)reported.Count(IsHit) / reported.Count,
        };
    }

    public static bool IsHit(RequestOutcome outcome) => outcome.CachedTokens > 0 || outcome.KvTransfer?.ReusedPromptTokens > 0;

    private static double? Mean(IReadOnlyList<RequestOutcome> outcomes, Func<RequestOutcome, double> value) =>
        outcomes.Count == 0 ? null : outcomes.Average(value);
}
