namespace PdServe.Deploy.Tests;

/// <summary>The test classes that share one <see cref="DeployedCluster"/> (started once, stopped after the last of them).</summary>
[CollectionDefinition(Name)]
public sealed class DeployedClusterCollection : ICollectionFixture<DeployedCluster>
{
    public const string Name = "deployed cluster";
}
