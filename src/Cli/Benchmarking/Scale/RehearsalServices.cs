using System.Net;
using System.Text.Json;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The two headless Services of the deployment, read from the gateway configuration the rehearsal runs the gateway with
/// (configs/gateway.k8s.json unless told otherwise), so the DNS server answers exactly the names the gateway resolves:
/// the one destination address of each of the clusters <c>prefill</c> and <c>decode</c>, which must be a DNS name.
/// </summary>
public sealed record RehearsalServices(ServiceEndpoint Prefill, ServiceEndpoint Decode)
{
    /// <summary>Throws <see cref="CliError"/> naming the file and what is wrong with it.</summary>
    public static RehearsalServices FromGatewayConfig(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CliError($"bench scale: {path} is not JSON: {e.Message}");
        }
        using (document)
            return new RehearsalServices(Pool(document.RootElement, "prefill", path), Pool(document.RootElement, "decode", path));
    }

    /// <summary>
    /// Kubernetes' search list for a pod in the Service's namespace (<c>ns.svc.domain svc.domain domain</c>) when the
    /// name has the shape <c>service.ns.svc.domain</c>; empty otherwise.
    /// </summary>
    public IReadOnlyList<string> SearchDomains
    {
        get
        {
            string[] labels = Prefill.Host.Split('.');
            int svc = Array.IndexOf(labels, "svc");
            if (svc != 2 || labels.Length < 4) return [];
            string domain = string.Join('.', labels[(svc + 1)..]);
            return [$"{labels[1]}.svc.{domain}", $"svc.{domain}", domain];
        }
    }

    /// <summary>
    /// The zone the DNS server answers alone (names in it that are not a live node's get NXDOMAIN, as the cluster DNS
    /// answers): the cluster domain after <c>.svc.</c>, else everything after the Service's first label.
    /// </summary>
    public string LocalZone
    {
        get
        {
            int svc = Prefill.Host.IndexOf(".svc.", StringComparison.OrdinalIgnoreCase);
            return svc >= 0 ? Prefill.Host[(svc + ".svc.".Length)..] : Prefill.Host[(Prefill.Host.IndexOf('.') + 1)..];
        }
    }

    private static ServiceEndpoint Pool(JsonElement root, string pool, string path)
    {
        if (!TryGet(root, out JsonElement destinations, "ReverseProxy", "Clusters", pool, "Destinations") || destinations.ValueKind != JsonValueKind.Object)
            throw new CliError($"bench scale: {path} has no ReverseProxy:Clusters:{pool}:Destinations");
        var addresses = destinations.EnumerateObject()
            .Select(d => TryGet(d.Value, out JsonElement a, "Address") && a.ValueKind == JsonValueKind.String ? a.GetString() : null)
            .ToList();
        if (addresses.Count != 1 || addresses[0] is not { } address)
            throw new CliError($"bench scale: the {pool} cluster of {path} must have exactly one destination, a headless Service's DNS name");
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            throw new CliError($"bench scale: the {pool} destination of {path} is not http://name:port ('{address}')");
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out _) || !uri.Host.Contains('.', StringComparison.Ordinal))
            throw new CliError($"bench scale: the {pool} destination of {path} names '{uri.Host}', not a Service's DNS name (name.namespace.svc.cluster.local)");
        return new ServiceEndpoint(uri.Host, uri.Port);
    }

    private static bool TryGet(JsonElement element, out JsonElement found, params string[] path)
    {
        found = element;
        foreach (string key in path)
        {
            if (found.ValueKind != JsonValueKind.Object) return false;
            // Configuration keys are case-insensitive, as ASP.NET Core binds them.
            var property = found.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));
            if (property.Value.ValueKind == JsonValueKind.Undefined) return false;
            found = property.Value;
        }
        return true;
    }
}
