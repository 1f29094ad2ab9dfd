namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The results of one request rate. Throughputs divide by the run's duration (first send to last completion); latency
/// summaries cover successful requests; goodput counts successful requests within every SLO limit per second, and SLO
/// attainment is that count over all requests sent (a failure misses its SLO).
/// </summary>
public sealed record RateResult
{
    /// <summary>"inf" or the offered requests per second.</summary>
    public required string Rate { get; init; }
    public required int Completed { get; init; }
    public required int Failed { get; init; }
    /// <summary>Distinct failure reasons with their counts, most frequent first.</summary>
    public required IReadOnlyList<FailureCount> Failures { get; init; }
    public required double DurationSeconds { get; init; }
    public required double RequestThroughput { get; init; }
    public required double OutputTokenThroughput { get; init; }
    public required double TotalTokenThroughput { get; init; }
    public required long TotalInputTokens { get; init; }
    public required long TotalOutputTokens { get; init; }
    /// <summary>Most requests in flight at once, as the client saw it.</summary>
    public required int PeakConcurrency { get; init; }
    public required LatencySummary TtftMs { get; init; }
    public required LatencySummary TpotMs { get; init; }
    public required LatencySummary ItlMs { get; init; }
    public required LatencySummary E2elMs { get; init; }
    public double? Goodput { get; init; }
    public double? SloAttainment { get; init; }
    /// <summary>Per completed request, from the gateway's counters (null when it exposes none).</summary>
    public double? KvBytesFullPerRequest { get; init; }
    public double? KvBytesSentPerRequest { get; init; }
    /// <summary>Tokens the gateway counted during the run, to compare with <see cref="TotalInputTokens"/> and <see cref="TotalOutputTokens"/>.</summary>
    public double? GatewayPromptTokens { get; init; }
    public double? GatewayOutputTokens { get; init; }
    /// <summary>
    /// Prompt tokens the prefill node computed per completed request (prompt − <c>cached_tokens</c>) and the share of
    /// prompt tokens it took from its prefix cache instead, over the requests whose server reported cached tokens;
    /// null when none did.
    /// </summary>
    public double? PromptTokensComputedPerRequest { get; init; }
    public double? CachedTokenShare { get; init; }
    /// <summary>The multiturn dataset's rows per turn index and for turns 2+; null for the other datasets.</summary>
    public IReadOnlyList<TurnResult>? Turns { get; init; }

    public static RateResult From(string rate, IReadOnlyList<RequestOutcome> outcomes, double durationSeconds, int peakConcurrency,
        SloLimits? slo, GatewayCounters? counters)
    {
        var ok = outcomes.Where(o => o.Success).ToList();
        long input = ok.Sum(o => (long)o.PromptTokens);
        long output = ok.Sum(o => (long)o.OutputTokens);
        double seconds = Math.Max(durationSeconds, 1e-9);
        int good = slo is null ? 0 : ok.Count(slo.IsMetBy);
        var cached = ok.Where(o => o.CachedTokens is not null).ToList();
        long cachedPrompt = cached.Sum(o => (long)o.PromptTokens);
        return new RateResult
        {
            Rate = rate,
            Completed = ok.Count,
            Failed = outcomes.Count - ok.Count,
            Failures = outcomes.Where(o => !o.Success).GroupBy(o => o.Error ?? "unknown")
                .Select(g => new FailureCount(g.Key, g.Count())).OrderByDescending(f => f.Count).ToList(),
            DurationSeconds = durationSeconds,
            RequestThroughput = ok.Count / seconds,
            OutputTokenThroughput = output / seconds,
            TotalTokenThroughput = (input + output) / seconds,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            PeakConcurrency = peakConcurrency,
            TtftMs = LatencySummary.Of(ok.Where(o => o.TtftMs is not null).Select(o => o.TtftMs!.Value)),
            TpotMs = LatencySummary.Of(ok.Where(o => o.TpotMs is not null).Select(o => o.TpotMs!.Value)),
            ItlMs = LatencySummary.Of(ok.SelectMany(o => o.ItlMs)),
            E2elMs = LatencySummary.Of(ok.Select(o => o.E2elMs)),
            Goodput = slo is null ? null : good / seconds,
            SloAttainment = slo is null || outcomes.Count == 0 ? null : (double)good / outcomes.Count,
            KvBytesFullPerRequest = counters is null || ok.Count == 0 ? null : counters.KvBytesFull / ok.Count,
            KvBytesSentPerRequest = counters is null || ok.Count == 0 ? null : counters.KvBytesSent / ok.Count,
            GatewayPromptTokens = counters?.PromptTokens,
            GatewayOutputTokens = counters?.GenerationTokens,
            PromptTokensComputedPerRequest = cached.Count == 0 ? null : cached.Average(o => (double)(o.PromptTokens - o.CachedTokens!.Value)),
            CachedTokenShare = cached.Count == 0 ? null : cached.Sum(o => (double)o.CachedTokens!.Value) / Math.Max(cachedPrompt, 1),
            Turns = outcomes.Any(o => o.Turn is not null) ? TurnResult.PerTurn(outcomes) : null,
        };
    }
}

public sealed record FailureCount(string Reason, int Count);
