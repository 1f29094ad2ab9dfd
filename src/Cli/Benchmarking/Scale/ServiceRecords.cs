using System.Text;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The A records the rehearsal's DNS server answers: for each headless Service name, one address per live node, in the
/// order the nodes were published (the endpoints a headless Service has), rendered as the hosts file dnsmasq reads.
/// </summary>
public sealed class ServiceRecords
{
    private readonly SortedDictionary<string, List<string>> records = new(StringComparer.OrdinalIgnoreCase);

    public void Add(string name, string address)
    {
        if (!records.TryGetValue(name, out var addresses)) records[name] = addresses = [];
        if (!addresses.Contains(address)) addresses.Add(address);
    }

    public void Remove(string name, string address)
    {
        if (records.TryGetValue(name, out var addresses) && addresses.Remove(address) && addresses.Count == 0) records.Remove(name);
    }

    public IReadOnlyList<string> Addresses(string name) => records.TryGetValue(name, out var addresses) ? [.. addresses] : [];

    public IReadOnlyCollection<string> Names => records.Keys;

    /// <summary>A hosts file (<c>address name</c> per line), each name's addresses in publication order.</summary>
    public string HostsFile()
    {
        var text = new StringBuilder("# pdserve bench scale: one line per live node of each headless Service\n");
        foreach (var (name, addresses) in records)
            foreach (string address in addresses) text.Append(address).Append('\t').Append(name).Append('\n');
        return text.ToString();
    }
}
