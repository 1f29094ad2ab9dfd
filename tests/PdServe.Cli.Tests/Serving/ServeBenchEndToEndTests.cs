using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Options;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Serving;

/// <summary><c>pdserve bench serve</c> against a real (tiny) prefill node, decode node and gateway in this process.</summary>
public sealed class ServeBenchEndToEndTests
{
    [Fact]
    public async Task A_short_run_completes_every_request_with_consistent_token_counts()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-serve-bench-out");
        string json = output.Combine("serve.json");
        string plot = output.Combine("serve.png");

        var run = await Task.Run(() => CliRun.Of("bench", "serve", "--url", cluster.Url, "--tokenizer", cluster.ModelDirectory,
            "--dataset", "random", "--input-len", "24", "--output-len", "8", "--num-prompts", "12", "--rate", "40,inf",
            "--max-concurrency", "6", "--ignore-eos", "--goodput", "ttft:60000,tpot:60000", "--warmup", "2", "--out", json, "--plot", plot));

        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        Assert.StartsWith("pdserve bench serve --url", report.Command);
        Assert.True(report.Machine.Cores >= 1);
        Assert.Equal(["40", "inf"], report.Rates.Select(r => r.Rate));
        foreach (var rate in report.Rates)
        {
            Assert.Equal((12, 0), (rate.Completed, rate.Failed));
            // ignore_eos: every request generates exactly output-len tokens; prompts are sent as exactly input-len ids.
            Assert.Equal(12 * 24, rate.TotalInputTokens);
            Assert.Equal(12 * 8, rate.TotalOutputTokens);
            // The gateway's own counters over the same window agree with the client's counts (the warm-up is outside it).
            Assert.Equal(rate.TotalInputTokens, rate.GatewayPromptTokens);
            Assert.Equal(rate.TotalOutputTokens, rate.GatewayOutputTokens);
            Assert.Equal(12, rate.TtftMs.Count);
            Assert.Equal(12, rate.TpotMs.Count);
            Assert.InRange(rate.ItlMs.Count, 1, 12 * 7);
            Assert.True(rate.E2elMs.P50 >= rate.TtftMs.P50);
            Assert.InRange(rate.PeakConcurrency, 1, 6);
            Assert.Equal(rate.Completed / rate.DurationSeconds, rate.RequestThroughput, 6);
            // Disaggregated: the decode node pulled the KV of every prompt, unpruned (no plan), so sent equals full.
            Assert.True(rate.KvBytesFullPerRequest > 0);
            Assert.Equal(rate.KvBytesFullPerRequest, rate.KvBytesSentPerRequest);
            Assert.Equal(1.0, rate.SloAttainment);
        }
        Assert.Contains("out tok/s", run.Stdout);
        Assert.Contains("Latencies (ms) of successful requests", run.Stdout);
        Assert.Contains("TPOT", run.Stdout);
        Assert.True(new FileInfo(plot).Length > 1000);
    }

    [Fact]
    public async Task Without_a_tokenizer_the_random_dataset_draws_ids_the_server_s_own_model_knows()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        // The served tiny model's vocabulary is far smaller than the embedded default's: ids drawn from the default's
        // tokenizer would be refused with 400s.
        var served = PdServe.Engine.Loading.ModelConfig.Load(Path.Combine(cluster.ModelDirectory, "config.json"));
        var embedded = PdServe.Engine.Loading.ModelConfig.Load(Path.Combine(DefaultModel.Resolve(), "config.json"));
        Assert.True(served.VocabSize < embedded.VocabSize / 4, $"served {served.VocabSize}, embedded {embedded.VocabSize}");
        using var output = new TempDirectory("pdserve-serve-bench-out");
        string json = output.Combine("serve.json");

        var run = await Task.Run(() => CliRun.Of("bench", "serve", "--url", cluster.Url, "--dataset", "random", "--input-len", "16",
            "--output-len", "4", "--num-prompts", "6", "--ignore-eos", "--warmup", "1", "--out", json));

        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        Assert.Equal((6, 0), (report.Rates[0].Completed, report.Rates[0].Failed));
        Assert.Equal(6 * 16, report.Rates[0].TotalInputTokens);
    }

    [Fact]
    public async Task When_every_request_fails_the_failures_are_shown_and_the_exit_code_is_not_zero()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var output = new TempDirectory("pdserve-serve-bench-out");
        string json = output.Combine("serve.json");

        var run = await Task.Run(() => CliRun.Of("bench", "serve", "--url", cluster.Url, "--tokenizer", cluster.ModelDirectory,
            "--model-name", "no-such-model", "--input-len", "8", "--output-len", "4", "--num-prompts", "5", "--warmup", "0", "--out", json));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("failed: rate inf: 5 × HTTP 404", run.Stderr);
        Assert.Contains("every request failed", run.Stderr);
        var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(json), BenchmarkJson.Options)!;
        Assert.Equal((0, 5), (report.Rates[0].Completed, report.Rates[0].Failed));
    }

    [Theory]
    [InlineData("--rate", "0", "--rate must be")]
    [InlineData("--goodput", "ttft:abc", "--goodput must be")]
    [InlineData("--range-ratio", "1", "--range-ratio must be")]
    [InlineData("--dataset", "jsonl:/no/such/file", "--dataset must be")]
    public void Bad_options_are_usage_errors_naming_the_option(string option, string value, string expected)
    {
        var run = CliRun.Of("bench", "serve", "--url", "http://127.0.0.1:9", "--out", "/tmp/never.json", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
    }

    [Fact]
    public void Ttft_or_tpot_limits_need_streaming()
    {
        var run = CliRun.Of("bench", "serve", "--url", "http://127.0.0.1:9", "--out", "/tmp/never.json", "--no-stream", "--goodput", "ttft:100");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("needs streaming", run.Stderr);
    }
}
