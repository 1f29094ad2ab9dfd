using System.Net;
using System.Text.Json;
using PdServe.Gateway.Routing;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>The pools as YARP runs them: active health checks, load-balancing policies, hot reload, DNS destinations.</summary>
public sealed class PoolTests
{
    private static object Request(int maxTokens = 2) => new { model = TestCluster.ModelId, prompt = "pool", max_tokens = maxTokens, temperature = 0 };

    [Theory]
    [InlineData(null, 5.0)]
    [InlineData("00:00:02", 2.0)]
    public async Task Dns_pools_are_resolved_again_every_few_seconds_not_every_five_minutes(string? configured, double expectedSeconds)
    {
        var settings = new Dictionary<string, string?>();
        if (configured is not null) settings["Gateway:DnsRefreshPeriod"] = configured;
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { Settings = settings });
        var dns = cluster.Gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Yarp.ReverseProxy.ServiceDiscovery.DnsDestinationResolverOptions>>();
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), dns.Value.RefreshPeriod);
    }

    [Fact]
    public async Task An_unhealthy_node_leaves_its_pool_within_5_s_and_returns_when_healthy()
    {
        await using var cluster = await TestCluster.StartAsync();
        var sick = cluster.Decode[0];
        sick.Healthy = false;
        var left = await TestCluster.WaitUntilAsync(async () => !(await cluster.AvailableAsync("decode")).Contains(sick.Address),
            TimeSpan.FromSeconds(5), "the node answering 503 leaves the pool");
        Assert.True(left < TimeSpan.FromSeconds(5));

        int before = sick.Calls.Count;
        for (int i = 0; i < 4; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Equal(before, sick.Calls.Count);

        sick.Healthy = true;
        await TestCluster.WaitUntilAsync(async () => (await cluster.AvailableAsync("decode")).Contains(sick.Address),
            TimeSpan.FromSeconds(5), "the node returns to the pool");
        for (int i = 0; i < 4; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.True(sick.Calls.Count > before);
    }

    [Fact]
    public async Task No_healthy_decode_node_gives_503_with_retry_after_and_the_metrics_show_the_pool_empty()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var node in cluster.Decode) node.Healthy = false;
        await TestCluster.WaitUntilAsync(async () => (await cluster.AvailableAsync("decode")).Count == 0, TimeSpan.FromSeconds(5),
            "the decode pool is empty");

        using var response = await cluster.PostAsync("/v1/chat/completions",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("no_healthy_node", error.GetProperty("code").GetString());
        Assert.Contains("decode", error.GetProperty("message").GetString());

        string metrics = await cluster.Http.GetStringAsync("/metrics");
        Assert.Contains("pdserve_gateway_pool_healthy_nodes{pool=\"decode\"} 0", metrics);
        Assert.Contains("pdserve_gateway_pool_healthy_nodes{pool=\"prefill\"} 1", metrics);
    }

    [Fact]
    public async Task Round_robin_alternates_between_the_decode_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { DecodeNodes = 3, DecodePolicy = "RoundRobin" });
        for (int i = 0; i < 6; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.All(cluster.Decode, n => Assert.Equal(2, n.Calls.Count));
    }

    [Fact]
    public async Task Power_of_two_choices_avoids_the_node_with_a_call_in_flight()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { DecodePolicy = "PowerOfTwoChoices" });
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { TokenDelay = TimeSpan.FromMilliseconds(30) };
        using var slow = await SseStream.OpenAsync(cluster.Http, "/v1/completions",
            JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = "slow", max_tokens = 100, temperature = 0, stream = true }));
        Assert.True(await slow.NextAsync());
        var busy = cluster.Decode.Single(n => n.Running == 1);
        var idle = cluster.Decode.Single(n => n != busy);

        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior();
        for (int i = 0; i < 4; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Equal(4, idle.Calls.Count);
        await slow.ReadToEndAsync();
    }

    [Fact]
    public async Task PdServe_least_load_picks_the_node_reporting_the_least_outstanding_work()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 3,
            DecodePolicy = LeastReportedLoadPolicy.PolicyName,
        });
        cluster.Decode[0].ReportedLoad = (4, 2, 0.5);
        cluster.Decode[1].ReportedLoad = (1, 0, 0.9);
        cluster.Decode[2].ReportedLoad = (0, 1, 0.2);
        // Nodes 1 and 2 tie on outstanding work (1); node 2's KV cache is emptier.
        await TestCluster.WaitUntilAsync(async () =>
        {
            var pools = JsonDocument.Parse(await cluster.Http.GetStringAsync("/pools")).RootElement;
            var nodes = pools.EnumerateArray().Single(p => p.GetProperty("pool").GetString() == "decode").GetProperty("nodes");
            return nodes.EnumerateArray().All(n => n.GetProperty("load").ValueKind == JsonValueKind.Object
                                                   && n.GetProperty("load").GetProperty("running").GetInt32() != 0 == (n.GetProperty("address").GetString()!.TrimEnd('/') != cluster.Decode[2].Address));
        }, TimeSpan.FromSeconds(5), "every node's load is reported");

        for (int i = 0; i < 3; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Equal(3, cluster.Decode[2].Calls.Count);
        Assert.Empty(cluster.Decode[0].Calls);

        cluster.Decode[0].ReportedLoad = (0, 0, 0.0);
        await TestCluster.WaitUntilAsync(async () =>
        {
            await cluster.PostJsonAsync("/v1/completions", Request());
            return !cluster.Decode[0].Calls.IsEmpty;
        }, TimeSpan.FromSeconds(5), "the emptied node gets the next calls");
    }

    [Fact]
    public async Task PdServe_least_load_spreads_an_idle_pool_over_every_node_not_only_the_first()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 3,
            DecodePolicy = LeastReportedLoadPolicy.PolicyName,
        });
        // Sequential calls to idle nodes: every pick is a three-way tie. A node left out of 60 fair picks has odds 3·(2/3)^60.
        for (int i = 0; i < 60; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.All(cluster.Decode, node => Assert.NotEmpty(node.Calls));
    }

    [Fact]
    public async Task A_changed_config_file_moves_the_decode_pool_without_a_restart()
    {
        using var configDirectory = new PdServe.TestSupport.TempDirectory("pdserve-config");
        string file = configDirectory.Combine("gateway.json");
        await using var first = await FakeDecodeNode.StartAsync(new FakeScript(TestCluster.WriteModel(configDirectory.Path, null)));
        await using var second = await FakeDecodeNode.StartAsync(first.Script);
        WriteConfig(file, first.Address);

        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 0,
            PrefillNodes = 0,
            ConfigFiles = [file],
            PoolsFromFiles = true,
        });
        await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Single(first.Calls);
        // Without a prefill pool the decode node prefills itself (unified mode).
        Assert.Equal("", first.Calls.Single().Request.PrefillAddress);

        WriteConfig(file, second.Address);
        await TestCluster.WaitUntilAsync(async () => (await cluster.AvailableAsync("decode")).SequenceEqual([second.Address]),
            TimeSpan.FromSeconds(10), "the reloaded file's destination replaces the old one");
        for (int i = 0; i < 3; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Single(first.Calls);
        Assert.Equal(3, second.Calls.Count);
    }

    [Fact]
    public async Task A_dns_name_destination_is_resolved_to_its_addresses_by_yarps_dns_resolver()
    {
        using var modelDirectory = new PdServe.TestSupport.TempDirectory("pdserve-dns");
        await using var node = await FakeDecodeNode.StartAsync(new FakeScript(TestCluster.WriteModel(modelDirectory.Path, null)));
        string byName = node.Address.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 0,
            PrefillNodes = 0,
            PoolsFromFiles = true,
            Settings = TestCluster.PoolSettings("decode", [byName], "RoundRobin"),
        });

        var pools = JsonDocument.Parse(await cluster.Http.GetStringAsync("/pools")).RootElement;
        var ids = pools.EnumerateArray().Single(p => p.GetProperty("pool").GetString() == "decode").GetProperty("nodes")
            .EnumerateArray().Select(n => n.GetProperty("id").GetString()).ToList();
        Assert.Contains("decode0[127.0.0.1]", ids);
        for (int i = 0; i < 3; i++) await cluster.PostJsonAsync("/v1/completions", Request());
        Assert.Equal(3, node.Calls.Count);
    }

    private static void WriteConfig(string file, string decodeAddress)
    {
        var pools = TestCluster.PoolSettings("decode", [decodeAddress], "RoundRobin");
        var root = new Dictionary<string, object>();
        foreach (var (key, value) in pools)
        {
            var parts = key.Split(':');
            var node = root;
            foreach (string part in parts[..^1])
            {
                if (!node.TryGetValue(part, out var child)) node[part] = child = new Dictionary<string, object>();
                node = (Dictionary<string, object>)child;
            }
            node[parts[^1]] = value!;
        }
        // Write-then-rename so the watcher never reads a half-written file.
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(root));
        File.Move(file + ".tmp", file, overwrite: true);
    }
}
