using PdServe.Cli.Benchmarking.Scale;
using PdServe.Cli.Cluster;

namespace PdServe.Cli.Tests.Scale;

/// <summary>A [Fact] reported as skipped unless the tests run as root with iproute2's <c>ip</c> and dnsmasq on PATH (what <c>bench scale</c> needs).</summary>
public sealed class RequiresRootAndDnsmasqFactAttribute : FactAttribute
{
    public RequiresRootAndDnsmasqFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = "needs root: the rehearsal creates network namespaces, veths and a bridge";
        else if (!SystemTool.OnPath("ip")) Skip = "needs iproute2's ip on PATH";
        else if (!SystemTool.OnPath(DnsServer.Executable)) Skip = "needs dnsmasq on PATH (Debian: apt-get install dnsmasq-base)";
    }
}
