using PdServe.Decode.Admission;
using System.Net;
using System.Text.Json;
using PdServe.Decode;
using PdServe.NodeHosting;

namespace PdServe.Nodes.Tests;

/// <summary>/healthz, /load and /metrics over HTTP/1.1 on the same port as gRPC.</summary>
public sealed class NodeEndpointTests : IDisposable
{
    private readonly TestModel model = new();
    // The node port speaks HTTP/2 only (prior knowledge); the optional HTTP port speaks HTTP/1.1.
    private readonly HttpClient http = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    private readonly HttpClient http11 = new() { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    public void Dispose()
    {
        http.Dispose();
        http11.Dispose();
        model.Dispose();
    }

    [Fact]
    public async Task Health_load_and_metrics_answer_with_vllm_names_and_transfer_bytes()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        foreach (RunningNode node in new[] { nodes.Prefill, nodes.Decode })
        {
            HttpResponseMessage health = await http.GetAsync(new Uri(node.Address, "/healthz"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using JsonDocument load = JsonDocument.Parse(await http.GetStringAsync(new Uri(node.Address, "/load")));
            Assert.Equal(0, load.RootElement.GetProperty("running").GetInt32());
            Assert.Equal(0, load.RootElement.GetProperty("waiting").GetInt32());
            Assert.Equal(0.0, load.RootElement.GetProperty("kv_usage").GetDouble());
        }

        await nodes.Client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7, 8], 3, nodes.PrefillAddress));
        foreach (RunningNode node in new[] { nodes.Prefill, nodes.Decode })
        {
            string metrics = await http.GetStringAsync(new Uri(node.Address, "/metrics"));
            Assert.Contains("vllm:num_requests_running{model_name=\"model\"} 0", metrics);
            Assert.Contains("vllm:num_requests_waiting{model_name=\"model\"} 0", metrics);
            Assert.Contains("vllm:kv_cache_usage_perc{model_name=\"model\"} 0", metrics);
            Assert.Contains($"pdserve_kv_transfer_bytes_total{{kind=\"full\"}} {4 * 4 * 256}", metrics);
            Assert.Contains($"pdserve_kv_transfer_bytes_total{{kind=\"sent\"}} {4 * 4 * 256}", metrics);
            Assert.Contains("pdserve_requests_total{outcome=\"ok\"} 1", metrics);
            Assert.Contains("pdserve_kv_transfer_seconds_count 1", metrics);
        }
        Assert.Contains("pdserve_decode_step_seconds_count 2", await http.GetStringAsync(new Uri(nodes.Decode.Address, "/metrics")));
        Assert.Contains("pdserve_prefill_seconds_count 1", await http.GetStringAsync(new Uri(nodes.Prefill.Address, "/metrics")));
    }

    [Fact]
    public async Task The_optional_http_port_serves_health_load_and_metrics_over_http_1_1()
    {
        await using RunningNode decode = await DecodeNodeHost.StartAsync(NodePair.DecodeOptions(model.Path) with { Host = NodePair.Quiet with { HttpPort = 0 } });
        await decode.Readiness.Loaded;
        Assert.NotNull(decode.HttpAddress);
        Assert.NotEqual(decode.Address.Port, decode.HttpAddress!.Port);
        HttpResponseMessage health = await http11.GetAsync(new Uri(decode.HttpAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(new Version(1, 1), health.Version);
        Assert.Contains("\"kv_usage\":0", await http11.GetStringAsync(new Uri(decode.HttpAddress, "/load")));
        Assert.Contains("vllm:num_requests_waiting", await http11.GetStringAsync(new Uri(decode.HttpAddress, "/metrics")));
    }

    [Fact]
    public async Task Healthz_is_503_when_the_model_cannot_be_served()
    {
        using var other = new TestModel(seed: 9);
        string planForOtherWeights = other.WritePlan("other");
        await using RunningNode decode = await DecodeNodeHost.StartAsync(NodePair.DecodeOptions(model.Path, planForOtherWeights));
        await Assert.ThrowsAnyAsync<Exception>(() => decode.Readiness.Loaded);
        HttpResponseMessage health = await http.GetAsync(new Uri(decode.Address, "/healthz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("model failed to load\n", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Options_out_of_range_are_refused_with_their_message_before_the_node_listens()
    {
        var prefill = await Assert.ThrowsAsync<ArgumentException>(() => Prefill.PrefillNodeHost.StartAsync(NodePair.PrefillOptions(model.Path) with { Threads = 0 }));
        Assert.Equal("--threads must be >= 1, got 0", prefill.Message);
        var decode = await Assert.ThrowsAsync<ArgumentException>(() => DecodeNodeHost.StartAsync(NodePair.DecodeOptions(model.Path) with { KvBudgetBytes = 0 }));
        Assert.Equal("the KV budget must be positive, got 0 bytes", decode.Message);
    }
}
