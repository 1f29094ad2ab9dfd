using PdServe.Cli.Cluster;

namespace PdServe.Cli.Tests;

/// <summary><c>up --link-mbit</c>'s layout: prefill nodes behind the shaped link, decode nodes and the gateway on loopback.</summary>
public sealed class UpLinkTests
{
    [Fact]
    public void Behind_the_link_prefill_nodes_move_to_the_namespace_address_and_the_gateway_routes_there()
    {
        var specs = LocalCluster.BehindLink(NodeSpec.Plan(prefill: 2, decode: 1, cores: 2), "pdserve-link-test");

        var prefill = specs.Where(s => s.Role == NodeRole.Prefill).ToList();
        var decode = specs.Single(s => s.Role == NodeRole.Decode);
        Assert.Equal(2, prefill.Count);
        Assert.All(prefill, s => Assert.Equal((ShapedLink.NamespaceAddress, "pdserve-link-test"), (s.Host, s.NetworkNamespace)));
        Assert.Equal(("127.0.0.1", (string?)null), (decode.Host, decode.NetworkNamespace));

        var settings = LocalCluster.GatewaySettings("/m", "m", "token", specs);
        foreach (var spec in prefill)
            Assert.Equal($"http://10.77.0.1:{spec.Port}", settings[$"ReverseProxy:Clusters:prefill:Destinations:{spec.Name}:Address"]);
        Assert.Equal($"http://127.0.0.1:{decode.Port}", settings[$"ReverseProxy:Clusters:decode:Destinations:{decode.Name}:Address"]);
    }

    [Theory]
    [InlineData(1, "32kbit")]
    [InlineData(100, "1000kbit")]
    [InlineData(1000, "10000kbit")]
    public void The_token_bucket_holds_ten_milliseconds_of_traffic_and_at_least_32_kbit(int megabits, string burst) =>
        Assert.Equal(burst, ShapedLink.Burst(megabits));

    [Fact]
    public void Gateway_probes_wait_long_enough_for_a_link_busy_with_kv()
    {
        var settings = LocalCluster.GatewaySettings("/m", "m", "token", NodeSpec.Plan(1, 1, 2));
        Assert.All(new[] { "prefill", "decode" }, pool =>
            Assert.True(TimeSpan.Parse(settings[$"ReverseProxy:Clusters:{pool}:HealthCheck:Active:Timeout"]!) >= TimeSpan.FromSeconds(3)));
    }
}
