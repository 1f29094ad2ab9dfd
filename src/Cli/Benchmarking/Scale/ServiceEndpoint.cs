using System.Globalization;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>A pool's headless Service as the gateway configuration names it: a DNS name and the nodes' gRPC port.</summary>
public sealed record ServiceEndpoint(string Host, int Port)
{
    public string Url => string.Create(CultureInfo.InvariantCulture, $"http://{Host}:{Port}");
}
