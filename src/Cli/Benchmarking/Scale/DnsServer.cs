using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal's cluster DNS: Debian's dnsmasq on its own host (<see cref="VirtualHost"/>), bound only to that host's
/// address, answering the zone of the Services alone from a hosts file this class writes (<see cref="ServiceRecords"/>;
/// no upstream server, no /etc/hosts, NXDOMAIN for other names in the zone, TTL 0 and no negative caching, so a changed
/// record is seen by the next lookup). <see cref="PublishAsync"/> rewrites the file, makes dnsmasq re-read it
/// (SIGHUP) and returns once the server answers the new records. Disposing stops dnsmasq.
/// </summary>
public sealed class DnsServer : IDisposable
{
    public const string Executable = "dnsmasq";
    private const int SigHup = 1;
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(10);

    private readonly ChildProcess process;
    private readonly string hostsFile;
    private readonly IPAddress address;

    private DnsServer(ChildProcess process, string hostsFile, IPAddress address)
    {
        this.process = process;
        this.hostsFile = hostsFile;
        this.address = address;
    }

    public int Pid => process.Pid;
    public bool HasExited => process.HasExited;

    /// <summary>
    /// Starts dnsmasq in <paramref name="host"/>'s namespace with its files in <paramref name="directory"/> (made
    /// readable to the user dnsmasq drops to) and waits until it answers.
    /// </summary>
    public static async Task<DnsServer> StartAsync(VirtualHost host, string directory, string zone, string probeName, TextWriter log,
        CancellationToken cancellationToken)
    {
        string hostsFile = Path.Combine(directory, "service-records.hosts");
        WriteReadable(hostsFile, new ServiceRecords().HostsFile());
        var info = new ProcessStartInfo("ip");
        foreach (string argument in (string[])["netns", "exec", host.Namespace, Executable, .. Arguments(host.Address, hostsFile, zone, Path.Combine(directory, "dnsmasq.pid"))])
            info.ArgumentList.Add(argument);
        var server = new DnsServer(ChildProcess.Start("dns", info, log), hostsFile, IPAddress.Parse(host.Address));
        try
        {
            var watch = Stopwatch.StartNew();
            // Up once it answers at all: NXDOMAIN for a name of the zone that has no node yet.
            while (await DnsQuery.AddressesAsync(server.address, probeName, TimeSpan.FromMilliseconds(300), cancellationToken) is null)
            {
                if (server.process.HasExited)
                    throw new CliError($"bench scale: dnsmasq exited with code {server.process.ExitCode}: {server.process.LastOutput}");
                if (watch.Elapsed > ConfirmTimeout)
                    throw new CliError($"bench scale: dnsmasq did not answer on {host.Address}:53 within {ConfirmTimeout.TotalSeconds:0} s: {server.process.LastOutput}");
            }
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>dnsmasq's command line: foreground, its own configuration only, listening on <paramref name="listen"/> alone.</summary>
    public static IReadOnlyList<string> Arguments(string listen, string hostsFile, string zone, string pidFile) =>
    [
        "--keep-in-foreground", "--conf-file=/dev/null", "--log-facility=-",
        "--no-resolv", "--no-hosts", "--no-poll", $"--addn-hosts={hostsFile}",
        $"--listen-address={listen}", "--bind-interfaces", "--port=53",
        $"--local=/{zone}/", "--local-ttl=0", "--no-negcache",
        // Not /run/dnsmasq.pid, which a system dnsmasq may own.
        $"--pid-file={pidFile}",
    ];

    /// <summary>
    /// Serves <paramref name="records"/> from now on; returns once the server answers exactly the new addresses of
    /// <paramref name="changedName"/> (the moment a client can see the change).
    /// </summary>
    public async Task PublishAsync(ServiceRecords records, string changedName, CancellationToken cancellationToken)
    {
        WriteReadable(hostsFile, records.HostsFile());
        if (Kill(process.Pid, SigHup) != 0) throw new CliError($"bench scale: could not signal dnsmasq ({Marshal.GetLastPInvokeError()})");
        var expected = records.Addresses(changedName).Select(IPAddress.Parse).ToHashSet();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var answered = await DnsQuery.AddressesAsync(address, changedName, TimeSpan.FromMilliseconds(300), cancellationToken);
            if (answered is not null && answered.ToHashSet().SetEquals(expected)) return;
            if (process.HasExited) throw new CliError($"bench scale: dnsmasq exited with code {process.ExitCode}: {process.LastOutput}");
            if (watch.Elapsed > ConfirmTimeout)
                throw new CliError($"bench scale: dnsmasq did not answer the new records of {changedName} within {ConfirmTimeout.TotalSeconds:0} s");
            await Task.Delay(10, cancellationToken);
        }
    }

    public void Dispose()
    {
        process.Stop(TimeSpan.FromSeconds(3));
        process.Dispose();
    }

    /// <summary>Replaced in one rename, readable by the unprivileged user dnsmasq runs as.</summary>
    private static void WriteReadable(string path, string text)
    {
        string next = path + ".next";
        File.WriteAllText(next, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(next, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(next, path, overwrite: true);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
