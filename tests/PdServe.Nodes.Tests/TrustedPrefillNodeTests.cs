using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using PdServe.Contracts;
using PdServe.Decode.Transfer;
using PdServe.Decode;
using PdServe.KvTransfer;
using PdServe.NodeHosting;
using PdServe.Prefill;

namespace PdServe.Nodes.Tests;

/// <summary>A decode node dials only the prefill nodes it was told to trust; a request cannot point it elsewhere.</summary>
public sealed class TrustedPrefillNodeTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    [Fact]
    public async Task A_request_naming_an_untrusted_prefill_address_is_refused_without_a_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using NodePair nodes = await NodePair.StartAsync(model.Path);

        foreach (string address in new[] { $"http://127.0.0.1:{port}", $"http://localhost:{port}", "not an address", $"https://127.0.0.1:{nodes.Prefill.Address.Port}" })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => nodes.Client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7], 3, address)));
            Faults.AssertFault(error, StatusCode.FailedPrecondition, FaultSide.Self);
            Assert.DoesNotContain(nodes.PrefillAddress, error.Status.Detail);
            Assert.DoesNotContain(port.ToString(), error.Status.Detail);
        }
        Assert.False(listener.Pending(), "the decode node connected to an untrusted address");
        Assert.Equal(new LoadReport(0, 0, 0), nodes.DecodeState.Load);
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
        Assert.Equal(0, nodes.PrefillState.Metrics.Requests.WithLabels("ok").Value);
    }

    [Fact]
    public async Task A_dns_name_entry_trusts_the_addresses_it_resolves_to()
    {
        await using RunningNode prefill = await PrefillNodeHost.StartAsync(NodePair.PrefillOptions(model.Path));
        int port = prefill.Address.Port;
        await using RunningNode decode = await DecodeNodeHost.StartAsync(NodePair.DecodeOptions(model.Path) with
        {
            TrustedPrefillNodes = [$"http://localhost:{port}"],
        });
        await Task.WhenAll(prefill.Readiness.Loaded, decode.Readiness.Loaded);
        using var client = new DecodeTestClient(decode.Address);

        GenerateResult result = await client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7], 3, $"http://127.0.0.1:{port}"));
        Assert.Equal(3, result.Tokens().Length);
        Assert.Equal(4L * 3 * 256, result.Summary.KvBytesSent);
        var otherPort = await Assert.ThrowsAsync<RpcException>(() =>
            client.GenerateAsync(DecodeTestClient.Greedy([5, 6, 7], 3, $"http://127.0.0.1:{port + 1}")));
        Faults.AssertFault(otherPort, StatusCode.FailedPrecondition, FaultSide.Self);
    }

    [Theory]
    [InlineData("http://10.1.2.3:8101", "http://10.1.2.3:8101", true)]
    [InlineData("http://10.1.2.3:8101/", "http://10.1.2.3:8101", true)]
    [InlineData("http://10.1.2.3:8101", "http://10.1.2.3:8102", false)]
    [InlineData("http://10.1.2.3:8101", "https://10.1.2.3:8101", false)]
    [InlineData("http://10.1.2.3:8101", "http://10.1.2.4:8101", false)]
    [InlineData("http://10.1.2.3:8101", "http://10.1.2.3:8101/other/path", false)]
    [InlineData("http://[::1]:8101", "http://[::1]:8101", true)]
    [InlineData("http://localhost:8101", "http://localhost:8101", true)]
    [InlineData("http://localhost:8101", "http://127.0.0.1:8101", true)]
    [InlineData("http://localhost:8101", "http://127.0.0.2:8101", false)]
    [InlineData("http://10.1.2.3:8101", "http://user@10.1.2.3:8101", false)]
    public async Task Scheme_host_and_port_must_match_an_entry(string entry, string requested, bool trusted)
    {
        var nodes = new TrustedPrefillNodes([entry]);
        Assert.Equal(trusted, await nodes.TrustsAsync(requested, CancellationToken.None));
    }

    [Fact]
    public async Task A_pod_that_just_joined_the_service_is_trusted_at_once_and_misses_are_looked_up_at_most_every_interval()
    {
        var addresses = new List<IPAddress> { IPAddress.Parse("10.78.0.10") };
        int lookups = 0;
        var nodes = new TrustedPrefillNodes(["http://prefill.pdserve.svc.cluster.local:8100"], (_, _) =>
        {
            Interlocked.Increment(ref lookups);
            lock (addresses) return Task.FromResult(addresses.ToArray());
        });
        Assert.True(await nodes.TrustsAsync("http://10.78.0.10:8100", CancellationToken.None));
        Assert.Equal(1, lookups);

        // A new pod's address: the gateway may name it before this node's lookup is ResolutionLifetime old.
        lock (addresses) addresses.Add(IPAddress.Parse("10.78.0.13"));
        await Task.Delay(TrustedPrefillNodes.MissRefreshInterval + TimeSpan.FromMilliseconds(50));
        Assert.True(await nodes.TrustsAsync("http://10.78.0.13:8100", CancellationToken.None));
        Assert.Equal(2, lookups);

        // An address that is not in the Service is refused, and asking again at once costs no lookup.
        Assert.False(await nodes.TrustsAsync("http://10.78.0.99:8100", CancellationToken.None));
        Assert.False(await nodes.TrustsAsync("http://10.78.0.99:8100", CancellationToken.None));
        Assert.Equal(2, lookups);
        Assert.True(await nodes.TrustsAsync("http://10.78.0.10:8100", CancellationToken.None));
        Assert.Equal(2, lookups);
    }

    [Fact]
    public void A_malformed_entry_is_refused_at_start()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrustedPrefillNodes(["10.1.2.3:8101"]));
        Assert.Contains("http://host:port", error.Message);
    }

    [Fact]
    public void The_channel_cache_holds_at_most_its_capacity_evicting_the_least_recently_used()
    {
        var created = new List<Grpc.Net.Client.GrpcChannel>();
        using var channels = new PrefillChannels(2, TimeSpan.FromHours(1), address =>
        {
            var channel = Grpc.Net.Client.GrpcChannel.ForAddress(address);
            created.Add(channel);
            return channel;
        });
        var a = channels.For(new Uri("http://10.0.0.1:1"));
        channels.For(new Uri("http://10.0.0.2:1"));
        Assert.Same(a, channels.For(new Uri("http://10.0.0.1:1/")));
        channels.For(new Uri("http://10.0.0.3:1"));
        Assert.Equal(2, channels.Count);
        Assert.Same(a, channels.For(new Uri("http://10.0.0.1:1")));
        Assert.Equal(3, created.Count);
        // 10.0.0.2 was the least recently used: a new one is made for it.
        channels.For(new Uri("http://10.0.0.2:1"));
        Assert.Equal(4, created.Count);
        Assert.Equal(2, channels.Count);
    }
}
