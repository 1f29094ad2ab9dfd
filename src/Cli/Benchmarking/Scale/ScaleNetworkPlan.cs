using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The names and addresses one rehearsal gives what it creates, all derived from its run id (this process's PID) so two
/// runs never collide and a later run can tell a dead run's leftovers by name: a bridge <c>psc{id}br</c> at
/// <c>{subnet}.1</c> in the root namespace (where the load client runs), the DNS host at <c>.2</c>, the gateway host at
/// <c>.3</c>, nodes from <c>.10</c> on (a new address per host, as every new pod gets one); network namespaces
/// <c>pdserve-scale-{id}-{host}</c>, veth root ends <c>psc{id}v{k}</c> (within Linux's 15 characters).
/// </summary>
public sealed partial record ScaleNetworkPlan(int RunId, string SubnetPrefix)
{
    public const string NamespacePrefix = "pdserve-scale-";
    public const int FirstNodeHost = 10;
    public const int LastHost = 254;
    public const string DefaultSubnet = "10.78.0.0/24";

    public string BridgeName => $"psc{RunId}br";
    public string BridgeAddress => $"{SubnetPrefix}.1";
    public string DnsAddress => $"{SubnetPrefix}.2";
    public string GatewayAddress => $"{SubnetPrefix}.3";

    public string NamespaceName(string host) => $"{NamespacePrefix}{RunId}-{host}";
    public string VethName(int index) => string.Create(CultureInfo.InvariantCulture, $"psc{RunId}v{index}");
    public string PeerName(int index) => string.Create(CultureInfo.InvariantCulture, $"psc{RunId}p{index}");

    /// <summary>The address of the <paramref name="ordinal"/>-th node host (0-based); a rehearsal has room for 245.</summary>
    public string NodeAddress(int ordinal)
    {
        int host = FirstNodeHost + ordinal;
        if (ordinal < 0 || host > LastHost)
            throw new CliError($"bench scale: no address left in {SubnetPrefix}.0/24 for another node host ({ordinal + 1} started)");
        return string.Create(CultureInfo.InvariantCulture, $"{SubnetPrefix}.{host}");
    }

    /// <summary><c>A.B.C.0/24</c> → <c>A.B.C</c>; throws <see cref="FormatException"/> for anything else.</summary>
    public static string ParseSubnet(string text)
    {
        string[] parts = text.Trim().Split('/');
        if (parts.Length != 2 || parts[1] != "24" || !IPAddress.TryParse(parts[0], out IPAddress? address)
            || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || address.GetAddressBytes()[3] != 0
            || parts[0].Count(c => c == '.') != 3)
            throw new FormatException($"'{text}' is not an IPv4 /24 network such as {DefaultSubnet}");
        return parts[0][..parts[0].LastIndexOf('.')];
    }

    /// <summary>The run id in a namespace name this command makes (<c>pdserve-scale-{id}-…</c>), or null.</summary>
    public static int? RunIdOfNamespace(string name) => Id(NamespacePattern().Match(name));

    /// <summary>The run id in an interface name this command makes (<c>psc{id}br</c>, <c>psc{id}v{k}</c>, <c>psc{id}p{k}</c>), or null.</summary>
    public static int? RunIdOfLink(string name) => Id(LinkPattern().Match(name));

    private static int? Id(Match match) =>
        match.Success && int.TryParse(match.Groups["id"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;

    [GeneratedRegex(@"^pdserve-scale-(?<id>[0-9]+)-[a-z0-9]+$")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^psc(?<id>[0-9]+)(br|[vp][0-9]+)$")]
    private static partial Regex LinkPattern();
}
