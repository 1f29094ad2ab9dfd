using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PdServe.Decode.Transfer;

/// <summary>
/// The prefill nodes a decode node may dial (<see cref="DecodeNodeOptions.TrustedPrefillNodes"/>): an address a
/// request names is dialled only if its scheme and port equal an entry's and its host is that entry's IP address, or
/// that entry's DNS name, or one of the addresses the name resolves to (a headless Service stands for its pods).
/// Names are resolved at most every <see cref="ResolutionLifetime"/>, and again (at most every
/// <see cref="MissRefreshInterval"/>) when a request names an address the last lookup did not return, so a pod that just
/// joined the headless Service is trusted as soon as DNS lists it; names a request brings are never resolved.
/// </summary>
public sealed class TrustedPrefillNodes
{
    public static readonly TimeSpan ResolutionLifetime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How old a lookup may be before a miss looks the name up again. Without it, the gateway (which re-resolves the
    /// Service on its own period) sent requests naming a prefill pod that had just joined, and this node refused them
    /// for up to <see cref="ResolutionLifetime"/> (<c>pdserve bench scale</c> saw it); with it, addresses that will never
    /// be in the Service still cost at most one lookup per interval.
    /// </summary>
    public static readonly TimeSpan MissRefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly Entry[] entries;
    private readonly ConcurrentDictionary<string, Resolution> resolutions = new(StringComparer.OrdinalIgnoreCase);
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> resolve;

    /// <summary>Throws <see cref="ArgumentException"/> for an entry that is not http(s)://host:port.</summary>
    /// <param name="resolve">Looks a name up (default: the system resolver); tests count the lookups.</param>
    public TrustedPrefillNodes(IEnumerable<string> addresses, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        this.resolve = resolve ?? Dns.GetHostAddressesAsync;
        entries = addresses.Select(address => Parse(address) ?? throw new ArgumentException(
            $"--prefill-nodes entries must be http://host:port, got '{address}'")).ToArray();
    }

    /// <summary>Whether <paramref name="address"/> (a request's prefill_address) names a trusted prefill node.</summary>
    public async Task<bool> TrustsAsync(string address, CancellationToken cancellation)
    {
        if (Parse(address) is not { } wanted) return false;
        IPAddress? wantedIp = wanted.Ip;
        foreach (Entry entry in entries)
        {
            if (entry.Scheme != wanted.Scheme || entry.Port != wanted.Port) continue;
            if (entry.Ip is { } entryIp)
            {
                if (entryIp.Equals(wantedIp)) return true;
            }
            else if (string.Equals(entry.Host, wanted.Host, StringComparison.OrdinalIgnoreCase)
                     || (wantedIp is not null && ((await ResolveAsync(entry.Host, ResolutionLifetime, cancellation)).Contains(wantedIp)
                                                  || (await ResolveAsync(entry.Host, MissRefreshInterval, cancellation)).Contains(wantedIp))))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The name's addresses from a lookup at most <paramref name="maxAge"/> old.</summary>
    private async Task<IReadOnlySet<IPAddress>> ResolveAsync(string host, TimeSpan maxAge, CancellationToken cancellation)
    {
        if (resolutions.TryGetValue(host, out Resolution? cached) && Stopwatch.GetElapsedTime(cached.At) < maxAge)
            return cached.Addresses;
        IReadOnlySet<IPAddress> addresses;
        try
        {
            addresses = (await resolve(host, cancellation)).Select(Normalize).ToHashSet();
        }
        catch (SocketException)
        {
            // A name that does not resolve (now) stands for no node.
            addresses = new HashSet<IPAddress>();
        }
        resolutions[host] = new Resolution(addresses, Stopwatch.GetTimestamp());
        return addresses;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static Entry? Parse(string address)
    {
        if (!Uri.TryCreate(address.Trim(), UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0 || uri.Host.Length == 0)
            return null;
        // Uri keeps an IPv6 host in brackets.
        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        IPAddress? ip = (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6) && IPAddress.TryParse(host, out IPAddress? parsed)
            ? Normalize(parsed)
            : null;
        return new Entry(uri.Scheme, host, uri.Port, ip);
    }

    private sealed record Entry(string Scheme, string Host, int Port, IPAddress? Ip);

    private sealed record Resolution(IReadOnlySet<IPAddress> Addresses, long At);
}
