using System.Text;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// What a host of the rehearsal resolves names with, written to <c>/etc/netns/{namespace}/</c> so that
/// <c>ip netns exec</c> bind-mounts each over its <c>/etc</c> file for the processes of that namespace only (the
/// machine's own resolver is never touched): a pod's <c>resolv.conf</c> (the cluster DNS server, the namespace's search
/// domains, <c>ndots:5</c>, as the kubelet writes it), a <c>hosts</c> file with only localhost and the host itself, and
/// the machine's <c>nsswitch.conf</c> with its <c>hosts:</c> line set to <c>files dns</c>, so no other resolver module
/// (systemd-resolved, mDNS) answers in place of the DNS server.
/// </summary>
public static class ResolverFiles
{
    public static string ResolvConf(string nameserver, IReadOnlyList<string> searchDomains)
    {
        var text = new StringBuilder("# pdserve bench scale: this host's resolver, as the kubelet writes a pod's\n");
        text.Append("nameserver ").Append(nameserver).Append('\n');
        if (searchDomains.Count > 0) text.Append("search ").Append(string.Join(' ', searchDomains)).Append('\n');
        text.Append("options ndots:5\n");
        return text.ToString();
    }

    public static string Hosts(string address, string hostName) =>
        $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{address}\t{hostName}\n";

    /// <summary><paramref name="system"/> (the machine's nsswitch.conf) with its hosts database set to files, then DNS.</summary>
    public static string NsSwitch(string system)
    {
        var lines = system.Split('\n').Select(line => line.TrimStart().StartsWith("hosts:", StringComparison.Ordinal) ? "hosts:          files dns" : line).ToList();
        if (!lines.Any(line => line.StartsWith("hosts:", StringComparison.Ordinal)))
            lines.Insert(lines.Count > 0 && lines[^1].Length == 0 ? lines.Count - 1 : lines.Count, "hosts:          files dns");
        string text = string.Join('\n', lines);
        return text.EndsWith('\n') ? text : text + "\n";
    }
}
