using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal's network: a Linux bridge in the root namespace, holding <see cref="ScaleNetworkPlan.BridgeAddress"/>
/// (the load client and this process reach every host through it), that every host's veth joins as a switch port.
/// Disposing deletes it.
/// </summary>
public sealed class ScaleBridge : IDisposable
{
    private ScaleBridge(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates the bridge and brings it up; on a failure removes what it made and throws <see cref="Terminal.CliError"/>.</summary>
    public static ScaleBridge Create(ScaleNetworkPlan plan)
    {
        var bridge = new ScaleBridge(plan.BridgeName);
        try
        {
            SystemTool.Run("ip", "link", "add", bridge.Name, "type", "bridge");
            SystemTool.Run("ip", "addr", "add", plan.BridgeAddress + "/24", "dev", bridge.Name);
            SystemTool.Run("ip", "link", "set", bridge.Name, "up");
            return bridge;
        }
        catch
        {
            bridge.Dispose();
            throw;
        }
    }

    public void Dispose() => SystemTool.TryRun("ip", "link", "del", Name);
}
