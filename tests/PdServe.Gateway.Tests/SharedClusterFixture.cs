namespace PdServe.Gateway.Tests;

/// <summary>One gateway with two decode nodes and one prefill node, shared by tests that leave the nodes as they are.</summary>
public sealed class SharedClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
