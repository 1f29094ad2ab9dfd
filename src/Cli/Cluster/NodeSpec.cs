using System.Net;
using System.Net.Sockets;

namespace PdServe.Cli.Cluster;

/// <summary>
/// One node <c>pdserve up</c> starts: role, index, port, torch threads and the cores it is pinned to; it listens on
/// <paramref name="Host"/>, inside network namespace <paramref name="NetworkNamespace"/> when one is named (the shaped-link
/// benchmark puts the prefill node behind a rate-limited veth).
/// </summary>
public sealed record NodeSpec(NodeRole Role, int Index, int Port, int Threads, IReadOnlyList<int> Cores, string Host = "127.0.0.1", string? NetworkNamespace = null)
{
    public string Name => $"{Role.ToString().ToLowerInvariant()}{Index}";
    public string Address => $"http://{Host}:{Port}";

    /// <summary>
    /// Lays out <paramref name="prefill"/> + <paramref name="decode"/> nodes on <paramref name="cores"/> cores: each node
    /// gets its own share of the cores (pinned, with as many torch threads) so nodes do not fight over a core; with
    /// more nodes than cores, nodes share cores round robin with one thread each.
    /// </summary>
    public static IReadOnlyList<NodeSpec> Plan(int prefill, int decode, int cores)
    {
        var roles = Enumerable.Repeat(NodeRole.Prefill, prefill).Concat(Enumerable.Repeat(NodeRole.Decode, decode)).ToList();
        var specs = new List<NodeSpec>(roles.Count);
        int share = Math.Max(1, cores / roles.Count);
        for (int i = 0; i < roles.Count; i++)
        {
            int first = roles.Count <= cores ? i * share : i % cores;
            int count = roles.Count <= cores ? (i == roles.Count - 1 ? cores - first : share) : 1;
            int index = roles[i] == NodeRole.Prefill ? i : i - prefill;
            specs.Add(new NodeSpec(roles[i], index, FreePort(), count, Enumerable.Range(first, count).ToList()));
        }
        return specs;
    }

    /// <summary>A port free on 127.0.0.1 now (the node binds it a moment later).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
