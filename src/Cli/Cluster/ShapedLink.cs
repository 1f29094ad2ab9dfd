using System.Globalization;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// A network namespace joined to the root namespace by a veth pair whose egress on both ends is rate-limited with
/// <c>tc … tbf</c>: a stand-in for the link between a prefill and a decode machine (<c>bench transfer --link-mbit</c>,
/// <c>up --link-mbit</c>). The namespace end is
/// <see cref="NamespaceAddress"/>, the root end <see cref="RootAddress"/>. Disposing deletes the namespace, which
/// destroys the veth pair with it.
/// </summary>
public sealed class ShapedLink : IDisposable
{
    public const string NamespaceAddress = "10.77.0.1";
    public const string RootAddress = "10.77.0.2";

    private readonly string rootEnd;

    private ShapedLink(string networkNamespace, string rootEnd)
    {
        Namespace = networkNamespace;
        this.rootEnd = rootEnd;
    }

    public string Namespace { get; }

    /// <summary>
    /// Creates the namespace and the shaped veth pair; on any failure removes what it made and throws <see cref="CliError"/>.
    /// <paramref name="command"/> (e.g. <c>up --link-mbit</c>) names the asker in the errors.
    /// </summary>
    public static ShapedLink Create(int megabitsPerSecond, string command)
    {
        RequireRootAndTools(command);
        // Named after this process so a concurrent run cannot collide; interface names stay within 15 characters.
        int id = Environment.ProcessId;
        var link = new ShapedLink($"pdserve-link-{id}", $"pdl{id}r");
        string namespaceEnd = $"pdl{id}p";
        string rate = megabitsPerSecond.ToString(CultureInfo.InvariantCulture) + "mbit";
        try
        {
            Ip("netns", "add", link.Namespace);
            Ip("link", "add", link.rootEnd, "type", "veth", "peer", "name", namespaceEnd);
            Ip("link", "set", namespaceEnd, "netns", link.Namespace);
            Ip("addr", "add", RootAddress + "/24", "dev", link.rootEnd);
            Ip("link", "set", link.rootEnd, "up");
            Ip("-n", link.Namespace, "addr", "add", NamespaceAddress + "/24", "dev", namespaceEnd);
            Ip("-n", link.Namespace, "link", "set", namespaceEnd, "up");
            Ip("-n", link.Namespace, "link", "set", "lo", "up");
            string burst = Burst(megabitsPerSecond);
            Tool("tc", "qdisc", "add", "dev", link.rootEnd, "root", "tbf", "rate", rate, "burst", burst, "latency", "400ms");
            Tool("ip", "netns", "exec", link.Namespace, "tc", "qdisc", "add", "dev", namespaceEnd, "root", "tbf", "rate", rate, "burst", burst, "latency", "400ms");
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The token bucket: 10 ms of traffic at the rate (at least 32 kbit). tbf refills once per kernel tick, so a bucket
    /// smaller than rate/HZ caps the link below its rate; a fixed 32 kbit bucket held a "1000 Mbit/s" link to a few
    /// hundred Mbit/s.
    /// </summary>
    public static string Burst(int megabitsPerSecond) =>
        Math.Max(32, megabitsPerSecond * 10).ToString(CultureInfo.InvariantCulture) + "kbit";

    public void Dispose()
    {
        // Best effort, in this order: the namespace takes its veth end and so the pair; the explicit delete covers a
        // failure before the peer moved into the namespace.
        TryRun("ip", "netns", "del", Namespace);
        TryRun("ip", "link", "del", rootEnd);
    }

    /// <summary>
    /// Throws <see cref="CliError"/>, naming <paramref name="command"/>, unless this process is root and <c>ip</c> and
    /// <c>tc</c> are on PATH.
    /// </summary>
    public static void RequireRootAndTools(string command)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new CliError($"{command} needs root (it creates a network namespace and shapes a veth pair with tc)");
        foreach (string tool in new[] { "ip", "tc" })
            if (!OnPath(tool))
                throw new CliError($"{command} needs the '{tool}' command (iproute2), which is not on PATH");
    }

    private static bool OnPath(string tool) => SystemTool.OnPath(tool);

    private static void Ip(params string[] arguments) => SystemTool.Run("ip", arguments);

    private static void Tool(string tool, params string[] arguments) => SystemTool.Run(tool, arguments);

    private static void TryRun(string tool, params string[] arguments) => SystemTool.TryRun(tool, arguments);
}
