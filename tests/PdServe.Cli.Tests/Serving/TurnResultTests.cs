using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class TurnResultTests
{
    private static RequestOutcome Ok(int turn, int prompt, double ttft, int? cached, KvTransferUsage? kv) => new()
    {
        Success = true, Turn = turn, PromptTokens = prompt, OutputTokens = 4, TtftMs = ttft, E2elMs = ttft + 30, CachedTokens = cached, KvTransfer = kv,
    };

    private static readonly RequestOutcome[] Outcomes =
    [
        Ok(1, 100, 40, cached: 0, new KvTransferUsage(BytesFull: 8000, BytesSent: 8000, BytesReused: 0, ReusedPromptTokens: 0)),
        Ok(1, 120, 60, cached: 64, new KvTransferUsage(9600, 4480, 0, 0)),
        Ok(2, 200, 20, cached: 96, new KvTransferUsage(16000, 2000, 12000, 150)),
        Ok(2, 220, 30, cached: 0, new KvTransferUsage(17600, 17600, 0, 0)),
        // A server that reports neither field: counted in TTFT and prompt tokens, not in the reuse means.
        Ok(2, 210, 50, cached: null, kv: null),
        RequestOutcome.Failed("HTTP 503: no decode node", 5, 1) with { Turn = 3 },
        RequestOutcome.Failed("not sent: turn 3 of its conversation failed", 0, 1) with { Turn = 4 },
    ];

    [Fact]
    public void Each_turn_index_and_the_later_turns_pooled_get_exact_means_over_what_the_server_reported()
    {
        var turns = TurnResult.PerTurn(Outcomes);

        Assert.Equal(["1", "2", "3", "4", "2+"], turns.Select(t => t.Turn));
        var first = turns[0];
        Assert.Equal((2, 2), (first.Requests, first.Completed));
        Assert.Equal(50.0, first.TtftMs.P50!.Value, 9);
        Assert.Equal(58.0, first.TtftMs.P90!.Value, 9);
        Assert.Equal(110.0, first.MeanPromptTokens!.Value, 9);
        Assert.Equal(32.0, first.MeanCachedTokens!.Value, 9);
        Assert.Equal(78.0, first.MeanPromptTokensComputed!.Value, 9);
        Assert.Equal(8800.0, first.MeanKvBytesFull!.Value, 9);
        Assert.Equal(6240.0, first.MeanKvBytesSent!.Value, 9);
        Assert.Equal(0.0, first.MeanKvBytesReused!.Value, 9);
        Assert.Equal(0.0, first.MeanReusedPromptTokens!.Value, 9);
        Assert.Equal(0.5, first.HitShare!.Value, 9);

        var second = turns[1];
        Assert.Equal((3, 3), (second.Requests, second.Completed));
        Assert.Equal(3, second.TtftMs.Count);
        Assert.Equal(30.0, second.TtftMs.P50!.Value, 9);
        Assert.Equal(210.0, second.MeanPromptTokens!.Value, 9);
        // Two of three requests reported: cached (96 + 0)/2, computed (104 + 220)/2, KV over those two only.
        Assert.Equal(48.0, second.MeanCachedTokens!.Value, 9);
        Assert.Equal(162.0, second.MeanPromptTokensComputed!.Value, 9);
        Assert.Equal(9800.0, second.MeanKvBytesSent!.Value, 9);
        Assert.Equal(6000.0, second.MeanKvBytesReused!.Value, 9);
        Assert.Equal(75.0, second.MeanReusedPromptTokens!.Value, 9);
        Assert.Equal(0.5, second.HitShare!.Value, 9);

        // Only failures: sent, none completed, nothing to average.
        Assert.Equal((1, 0), (turns[2].Requests, turns[2].Completed));
        Assert.Equal(0, turns[3].TtftMs.Count);
        Assert.Null(turns[3].MeanPromptTokens);
        Assert.Null(turns[3].HitShare);

        var later = turns[4];
        Assert.Equal((5, 3), (later.Requests, later.Completed));
        Assert.Equal(second.MeanKvBytesSent, later.MeanKvBytesSent);
    }

    [Fact]
    public void A_rate_reports_turns_and_the_prompt_tokens_its_prefill_node_computed()
    {
        var result = RateResult.From("1", Outcomes, durationSeconds: 10, peakConcurrency: 2, null, null);

        Assert.Equal((5, 2), (result.Completed, result.Failed));
        Assert.Equal(5, result.Turns!.Count);
        // Over the four requests with cached_tokens: computed (100 + 56 + 104 + 220)/4; cached 160 of 640 prompt tokens.
        Assert.Equal(120.0, result.PromptTokensComputedPerRequest!.Value, 9);
        Assert.Equal(0.25, result.CachedTokenShare!.Value, 9);
    }

    [Fact]
    public void Without_turns_or_cached_tokens_those_fields_stay_empty()
    {
        var result = RateResult.From("inf", [new RequestOutcome { Success = true, PromptTokens = 10, OutputTokens = 2, E2elMs = 5 }], 1, 1, null, null);

        Assert.Null(result.Turns);
        Assert.Null(result.PromptTokensComputedPerRequest);
        Assert.Null(result.CachedTokenShare);
    }
}
