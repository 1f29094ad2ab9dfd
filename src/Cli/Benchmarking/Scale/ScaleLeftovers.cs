using System.Globalization;
using PdServe.Cli.Benchmarking.Chaos;
using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// What rehearsals leave on the machine, found by the names they give (<see cref="ScaleNetworkPlan"/>): a run checks
/// after its clean-up that nothing of its own is left, and sweeps what runs that died without cleaning up (SIGKILL)
/// left: their namespaces (with any process still in one), bridges, veths, resolver files and temporary folders. A
/// run whose process still lives is never touched.
/// </summary>
public static class ScaleLeftovers
{
    public const string TemporaryPrefix = "pdserve-scale-";

    /// <summary>Everything of run <paramref name="runId"/> that still exists, one line each; empty when all is gone.</summary>
    public static IReadOnlyList<string> Of(int runId, IEnumerable<int> pids)
    {
        var left = new List<string>();
        left.AddRange(Namespaces().Where(n => ScaleNetworkPlan.RunIdOfNamespace(n) == runId).Select(n => $"network namespace {n}"));
        left.AddRange(Links().Where(l => ScaleNetworkPlan.RunIdOfLink(l) == runId).Select(l => $"link {l}"));
        left.AddRange(EtcDirectories().Where(d => ScaleNetworkPlan.RunIdOfNamespace(Path.GetFileName(d)) == runId).Select(d => $"resolver files {d}"));
        left.AddRange(pids.Distinct().Where(ProcStatus.IsAlive).Select(p => string.Create(CultureInfo.InvariantCulture, $"process {p}")));
        if (Directory.Exists(TemporaryDirectory(runId))) left.Add($"folder {TemporaryDirectory(runId)}");
        return left;
    }

    /// <summary>Removes what dead runs left; returns one line per thing removed.</summary>
    public static IReadOnlyList<string> SweepDeadRuns()
    {
        var removed = new List<string>();
        foreach (string name in Namespaces().Where(n => IsDead(ScaleNetworkPlan.RunIdOfNamespace(n))))
        {
            // Nodes watch their parent and stop by themselves; dnsmasq does not.
            foreach (string pid in SystemTool.TryRun("ip", "netns", "pids", name).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) KillProcess(id);
            SystemTool.TryRun("ip", "netns", "del", name);
            removed.Add($"network namespace {name}");
        }
        // Deleting a namespace took its veth pairs with it; what is left is a bridge, or a veth that never moved.
        foreach (string link in Links().Where(l => IsDead(ScaleNetworkPlan.RunIdOfLink(l))))
            if (SystemTool.TryRun("ip", "link", "del", link).Code == 0) removed.Add($"link {link}");
        foreach (string directory in EtcDirectories().Where(d => IsDead(ScaleNetworkPlan.RunIdOfNamespace(Path.GetFileName(d)))))
        {
            TryDelete(directory);
            removed.Add($"resolver files {directory}");
        }
        foreach (string directory in Directory.EnumerateDirectories(Path.GetTempPath(), TemporaryPrefix + "*"))
        {
            string id = Path.GetFileName(directory)[TemporaryPrefix.Length..];
            if (int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int runId) && IsDead(runId))
            {
                TryDelete(directory);
                removed.Add($"folder {directory}");
            }
        }
        RemoveEmptyNetnsEtc();
        return removed;
    }

    /// <summary>/etc/netns once no namespace has resolver files in it (it exists for the rehearsal's hosts alone).</summary>
    public static void RemoveEmptyNetnsEtc()
    {
        try
        {
            if (Directory.Exists(VirtualHost.NetnsEtc) && !Directory.EnumerateFileSystemEntries(VirtualHost.NetnsEtc).Any())
                Directory.Delete(VirtualHost.NetnsEtc);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The run's own temporary folder (dnsmasq's records and pid file).</summary>
    public static string TemporaryDirectory(int runId) =>
        Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"{TemporaryPrefix}{runId}"));

    /// <summary>Namespace names from <c>ip netns list</c> (lines <c>name</c> or <c>name (id: N)</c>).</summary>
    public static IReadOnlyList<string> ParseNamespaceList(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line => line.Split(' ')[0])];

    /// <summary>Interface names from <c>ip -o link show</c> (lines <c>N: name[@peer]: &lt;flags&gt; …</c>).</summary>
    public static IReadOnlyList<string> ParseLinkList(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => parts[1].Trim().Split('@')[0])];

    private static bool IsDead(int? runId) => runId is { } id && id != Environment.ProcessId && !ProcStatus.IsAlive(id);

    private static IReadOnlyList<string> Namespaces() => ParseNamespaceList(SystemTool.TryRun("ip", "netns", "list").Output);

    private static IReadOnlyList<string> Links() => ParseLinkList(SystemTool.TryRun("ip", "-o", "link", "show").Output);

    private static IEnumerable<string> EtcDirectories() =>
        Directory.Exists(VirtualHost.NetnsEtc) ? Directory.EnumerateDirectories(VirtualHost.NetnsEtc, ScaleNetworkPlan.NamespacePrefix + "*") : [];

    private static void KillProcess(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
