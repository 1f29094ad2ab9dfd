using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// One "machine" of the rehearsal: a network namespace whose <c>eth0</c> (one end of a veth pair; the other end is a
/// port of the <see cref="ScaleBridge"/>) holds the host's own address, with its own resolver files under
/// <c>/etc/netns/{namespace}/</c> (<see cref="ResolverFiles"/>) that <c>ip netns exec</c> mounts for the processes
/// started in it. Disposing deletes the namespace (and with it the veth pair) and the resolver files.
/// </summary>
public sealed class VirtualHost : IDisposable
{
    public const string NetnsEtc = "/etc/netns";

    private readonly string rootEnd;

    private VirtualHost(string name, string networkNamespace, string address, string rootEnd)
    {
        Name = name;
        Namespace = networkNamespace;
        Address = address;
        this.rootEnd = rootEnd;
    }

    /// <summary>The host's name (<c>gateway</c>, <c>dns</c>, <c>prefill3</c>…), also its hostname in its hosts file.</summary>
    public string Name { get; }
    public string Namespace { get; }
    public string Address { get; }

    /// <summary>
    /// Creates the host <paramref name="name"/> with veth number <paramref name="index"/> at <paramref name="address"/>,
    /// resolving through <paramref name="nameserver"/> with <paramref name="searchDomains"/>. On any failure removes what
    /// it made and throws <see cref="Terminal.CliError"/>.
    /// </summary>
    public static VirtualHost Create(ScaleNetworkPlan plan, string name, int index, string address, string nameserver, IReadOnlyList<string> searchDomains)
    {
        var host = new VirtualHost(name, plan.NamespaceName(name), address, plan.VethName(index));
        string peer = plan.PeerName(index);
        try
        {
            WriteResolverFiles(host, nameserver, searchDomains);
            SystemTool.Run("ip", "netns", "add", host.Namespace);
            SystemTool.Run("ip", "link", "add", host.rootEnd, "type", "veth", "peer", "name", peer);
            SystemTool.Run("ip", "link", "set", peer, "netns", host.Namespace);
            SystemTool.Run("ip", "link", "set", host.rootEnd, "master", plan.BridgeName);
            SystemTool.Run("ip", "link", "set", host.rootEnd, "up");
            // Named as a pod's interface is.
            SystemTool.Run("ip", "-n", host.Namespace, "link", "set", peer, "name", "eth0");
            SystemTool.Run("ip", "-n", host.Namespace, "addr", "add", address + "/24", "dev", "eth0");
            SystemTool.Run("ip", "-n", host.Namespace, "link", "set", "eth0", "up");
            SystemTool.Run("ip", "-n", host.Namespace, "link", "set", "lo", "up");
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>The directory whose files <c>ip netns exec</c> mounts over /etc for <paramref name="networkNamespace"/>.</summary>
    public static string EtcDirectory(string networkNamespace) => Path.Combine(NetnsEtc, networkNamespace);

    /// <summary>Best effort, every step whatever the others did: the namespace (which takes the veth pair), the root end, the files.</summary>
    public void Dispose()
    {
        SystemTool.TryRun("ip", "netns", "del", Namespace);
        SystemTool.TryRun("ip", "link", "del", rootEnd);
        try
        {
            string etc = EtcDirectory(Namespace);
            if (Directory.Exists(etc)) Directory.Delete(etc, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void WriteResolverFiles(VirtualHost host, string nameserver, IReadOnlyList<string> searchDomains)
    {
        string etc = EtcDirectory(host.Namespace);
        Directory.CreateDirectory(etc);
        File.WriteAllText(Path.Combine(etc, "resolv.conf"), ResolverFiles.ResolvConf(nameserver, searchDomains));
        File.WriteAllText(Path.Combine(etc, "hosts"), ResolverFiles.Hosts(host.Address, host.Name));
        string system = File.Exists("/etc/nsswitch.conf") ? File.ReadAllText("/etc/nsswitch.conf") : "";
        // ip netns exec can only mount over a file that exists.
        if (system.Length > 0) File.WriteAllText(Path.Combine(etc, "nsswitch.conf"), ResolverFiles.NsSwitch(system));
    }
}
