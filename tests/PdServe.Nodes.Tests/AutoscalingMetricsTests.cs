using System.Globalization;
using System.Net;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// The gauges the pools autoscale on (deploy/kubernetes): a prefill node's pending prompt tokens and a decode node's
/// running sequences read what the node holds at scrape time, and return to 0 when it is idle.
/// </summary>
public sealed class AutoscalingMetricsTests : IDisposable
{
    private readonly TestModel model = new();
    private readonly HttpClient http = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    public void Dispose()
    {
        http.Dispose();
        model.Dispose();
    }

    [Fact]
    public async Task Pending_prompt_tokens_count_the_prompt_in_progress_and_the_queued_ones_until_they_are_prefilled()
    {
        // One worker, held inside layer 2 of the first prompt: the second prompt waits in the queue behind it.
        using var inLayer = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        var faults = new StreamFaults
        {
            BeforeLayer = (layer, _) =>
            {
                if (layer != 2) return;
                inLayer.Release();
                release.Wait(TimeSpan.FromSeconds(60));
            },
        };
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path), faults);
        Uri prefillMetrics = new(nodes.Prefill.Address, "/metrics");
        Assert.Equal(0, Gauge(await http.GetStringAsync(prefillMetrics), "pdserve_pending_prompt_tokens"));
        Task<GenerateResult> first, second;
        try
        {
            first = nodes.Client.GenerateAsync(DecodeTestClient.Greedy(TinyModels.RandomTokens(60, model.Config.VocabSize, seed: 3), 2, nodes.PrefillAddress));
            Assert.True(await inLayer.WaitAsync(TimeSpan.FromSeconds(30)), "the worker never reached layer 2");
            second = nodes.Client.GenerateAsync(DecodeTestClient.Greedy(TinyModels.RandomTokens(40, model.Config.VocabSize, seed: 4), 2, nodes.PrefillAddress));
            await WaitUntil(() => nodes.PrefillState.Load.Waiting == 1, "the second prompt was queued");
            Assert.Equal(100, Gauge(await http.GetStringAsync(prefillMetrics), "pdserve_pending_prompt_tokens"));
        }
        finally
        {
            release.Set();
        }
        await Task.WhenAll(first, second);
        Assert.Equal(0, Gauge(await http.GetStringAsync(prefillMetrics), "pdserve_pending_prompt_tokens"));
    }

    [Fact]
    public async Task Running_sequences_read_the_batch_at_scrape_time_and_are_0_once_generation_ends()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        Uri decodeMetrics = new(nodes.Decode.Address, "/metrics");
        GenerateResult result = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7, 8], 6, nodes.PrefillAddress, n: 3));
        Assert.Equal(6, result.Tokens(2).Length);
        await WaitUntil(() => nodes.DecodeState.RunningSequences == 0, "the engine let the sequences go");
        Assert.Equal(0, Gauge(await http.GetStringAsync(decodeMetrics), "pdserve_running_sequences"));
    }

    /// <summary>The value of an unlabelled gauge in Prometheus text, failing when the gauge is absent.</summary>
    private static double Gauge(string metrics, string name)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        }
        Assert.Fail($"{name} is not in /metrics");
        return double.NaN;
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }
}
