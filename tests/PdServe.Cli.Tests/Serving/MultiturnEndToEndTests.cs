using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Serving;

/// <summary><c>pdserve bench serve</c> with the multiturn and shared-prefix datasets against a real (tiny) cluster in this process.</summary>
public sealed class MultiturnEndToEndTests
{
    [Fact]
    public async Task Multiturn_conversations_complete_every_turn_and_later_turns_carry_the_history()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-serve-bench-out");
        string json = output.Combine("multiturn.json");

        // No --tokenizer: user messages draw ids from the server's /tokenize, and replies are re-tokenized there.
        var run = await Task.Run(() => CliRun.Of("bench", "serve", "--url", cluster.Url, "--dataset", "multiturn", "--conversations", "2",
            "--turns", "2", "--system-tokens", "16", "--user-tokens", "8", "--think-time", "0.05", "--output-len", "4", "--ignore-eos",
            "--rate", "inf", "--warmup", "1", "--out", json));

        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        Assert.Equal("multiturn", report.Dataset);
        Assert.Equal(new ConversationShape { Conversations = 2, Turns = 2, SystemTokens = 16, UserTokens = 8, ThinkTimeSeconds = 0.05 }, report.Conversation);
        Assert.Equal(4, report.NumPrompts);
        var rate = Assert.Single(report.Rates);
        Assert.Equal((4, 0), (rate.Completed, rate.Failed));
        Assert.Equal(4 * 4, rate.TotalOutputTokens);
        // The gateway counted the prompts the client says it sent (the warm-up is outside the window).
        Assert.Equal(rate.TotalInputTokens, rate.GatewayPromptTokens);
        var turns = rate.Turns!;
        Assert.Equal(["1", "2", "2+"], turns.Select(t => t.Turn));
        Assert.All(turns, t => Assert.Equal((2, 2), (t.Requests, t.Completed)));
        Assert.All(turns, t => Assert.Equal(2, t.TtftMs.Count));
        // Turn 1: the system prompt and a message of 4–12 tokens. Turn 2 holds turn 1's prompt, its reply and a new message.
        Assert.InRange(turns[0].MeanPromptTokens!.Value, 16 + 4, 16 + 12);
        Assert.True(turns[1].MeanPromptTokens >= turns[0].MeanPromptTokens + 4, $"turn 1 {turns[0].MeanPromptTokens}, turn 2 {turns[1].MeanPromptTokens}");
        Assert.Contains("Per turn: TTFT (ms) and prompt reuse", run.Stdout);
        Assert.Contains("dataset multiturn (2 conversations × 2 turns", run.Stdout);
    }

    [Fact]
    public async Task Shared_prefix_requests_send_the_prefix_and_their_suffix()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-serve-bench-out");
        string json = output.Combine("shared-prefix.json");

        var run = await Task.Run(() => CliRun.Of("bench", "serve", "--url", cluster.Url, "--tokenizer", cluster.ModelDirectory,
            "--dataset", "shared-prefix", "--prefix-tokens", "32", "--suffix-tokens", "8", "--num-prompts", "4", "--output-len", "2",
            "--ignore-eos", "--rate", "inf", "--warmup", "1", "--out", json));

        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        Assert.Equal(new SharedPrefixShape { PrefixTokens = 32, SuffixTokens = 8 }, report.SharedPrefix);
        Assert.Null(report.Conversation);
        var rate = Assert.Single(report.Rates);
        Assert.Equal((4, 0), (rate.Completed, rate.Failed));
        Assert.Equal(4 * 40, rate.TotalInputTokens);
        Assert.Null(rate.Turns);
        Assert.Contains("Prefix cache: prompt tokens per completed request", run.Stdout);
    }
}
