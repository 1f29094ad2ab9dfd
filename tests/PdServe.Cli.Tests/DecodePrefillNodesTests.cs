using PdServe.Cli.Cluster;
using PdServe.Cli.Commands;

namespace PdServe.Cli.Tests;

/// <summary><c>pdserve decode --prefill-nodes</c>, and the list <c>pdserve up</c> gives its decode nodes.</summary>
public sealed class DecodePrefillNodesTests
{
    [Fact]
    public void The_list_is_comma_separated_http_addresses()
    {
        Assert.Equal(["http://127.0.0.1:5001", "http://prefill.pdserve.svc:5001"],
            DecodeCommand.ParsePrefillNodes("http://127.0.0.1:5001, http://prefill.pdserve.svc:5001"));
        Assert.Null(DecodeCommand.ParsePrefillNodes("127.0.0.1:5001"));
        Assert.Null(DecodeCommand.ParsePrefillNodes("https://127.0.0.1:5001"));
        Assert.Null(DecodeCommand.ParsePrefillNodes("http://127.0.0.1:5001/kv"));
        Assert.Null(DecodeCommand.ParsePrefillNodes("http://127.0.0.1:5001,"));
    }

    [Fact]
    public void A_malformed_list_is_a_usage_error_naming_the_option()
    {
        var run = CliRun.Of("decode", "--model", "/tmp", "--port", "5999", "--prefill-nodes", "127.0.0.1:5001");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--prefill-nodes must be", run.Stderr);
    }

    [Fact]
    public void Decode_nodes_are_told_every_prefill_node_at_the_address_the_gateway_uses()
    {
        var specs = NodeSpec.Plan(prefill: 2, decode: 1, cores: 2);
        Assert.Equal(specs.Where(s => s.Role == NodeRole.Prefill).Select(s => $"http://127.0.0.1:{s.Port}"), LocalCluster.PrefillAddresses(specs));

        var shaped = LocalCluster.BehindLink(specs, "pdserve-link-test");
        Assert.Equal(shaped.Where(s => s.Role == NodeRole.Prefill).Select(s => $"http://{ShapedLink.NamespaceAddress}:{s.Port}"),
            LocalCluster.PrefillAddresses(shaped));
    }
}
