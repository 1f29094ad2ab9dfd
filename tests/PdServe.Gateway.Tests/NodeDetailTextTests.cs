using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Tests;

/// <summary>A request fault's detail, as the client gets it: what was wrong stays, addresses go.</summary>
public sealed class NodeDetailTextTests
{
    [Theory]
    [InlineData("prompt token id 300 is outside the vocabulary [0, 300)", "prompt token id 300 is outside the vocabulary [0, 300)")]
    [InlineData("top_p must be in (0, 1], got 0", "top_p must be in (0, 1], got 0")]
    [InlineData("sample [3] produced non-finite logits", "sample [3] produced non-finite logits")]
    [InlineData("prefill_address must be http://host:port, got 'http://10.0.0.7:8101/'", "prefill_address must be [address], got '[address]'")]
    [InlineData("node 127.0.0.1:8201 and [::1]:8202 and [fe80::1] refused", "node [address] and [address] and [address] refused")]
    [InlineData("grpc+unix:///run/node.sock failed", "[address] failed")]
    [InlineData("   ", "a node refused it")]
    public void Keeps_the_description_and_drops_addresses(string detail, string expected) =>
        Assert.Equal(expected, NodeDetailText.ForClient(detail));

    [Fact]
    public void A_long_detail_is_cut()
    {
        string text = NodeDetailText.ForClient(new string('x', 5000));
        Assert.True(text.Length <= 301);
    }
}
