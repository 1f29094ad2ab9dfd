using PdServe.Cli.Benchmarking.Scale;
using PdServe.Cli.Terminal;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Scale;

/// <summary>The Service names the rehearsal's DNS answers come from the gateway configuration it runs the gateway with.</summary>
public sealed class RehearsalServicesTests : IDisposable
{
    private readonly TempDirectory directory = new("pdserve-scale-config");

    public void Dispose() => directory.Dispose();

    [Fact]
    public void The_kubernetes_configuration_names_both_headless_services_and_their_ports()
    {
        var services = RehearsalServices.FromGatewayConfig(RepoPaths.InRepo("configs/gateway.k8s.json")!);
        Assert.Equal(new ServiceEndpoint("pdserve-prefill.pdserve.svc.cluster.local", 8100), services.Prefill);
        Assert.Equal(new ServiceEndpoint("pdserve-decode.pdserve.svc.cluster.local", 8200), services.Decode);
        Assert.Equal("http://pdserve-prefill.pdserve.svc.cluster.local:8100", services.Prefill.Url);
        Assert.Equal(["pdserve.svc.cluster.local", "svc.cluster.local", "cluster.local"], services.SearchDomains);
        Assert.Equal("cluster.local", services.LocalZone);
    }

    [Fact]
    public void A_name_outside_kubernetes_shape_gets_no_search_list_and_its_parent_as_zone()
    {
        var services = RehearsalServices.FromGatewayConfig(Config("http://prefill.pool.example:9000", "http://decode.pool.example:9001"));
        Assert.Empty(services.SearchDomains);
        Assert.Equal("pool.example", services.LocalZone);
    }

    [Theory]
    [InlineData("http://10.0.0.5:8100", "not a Service's DNS name")]
    [InlineData("http://localhost:8100", "not a Service's DNS name")]
    [InlineData("https://prefill.pdserve.svc.cluster.local:8100", "is not http://name:port")]
    [InlineData(null, "exactly one destination")]
    public void Pools_that_are_not_one_service_name_are_refused(string? prefill, string expected)
    {
        string path = prefill is null
            ? Write("""{"ReverseProxy":{"Clusters":{"prefill":{"Destinations":{"a":{"Address":"http://a.b.svc.c:1"},"b":{"Address":"http://b.b.svc.c:1"}}},"decode":{"Destinations":{"d":{"Address":"http://d.b.svc.c:2"}}}}}}""")
            : Config(prefill, "http://pdserve-decode.pdserve.svc.cluster.local:8200");
        Assert.Contains(expected, Assert.Throws<CliError>(() => RehearsalServices.FromGatewayConfig(path)).Message);
    }

    // Lower-case keys: configuration keys are case-insensitive, as ASP.NET Core binds them.
    private string Config(string prefill, string decode) => Write(System.Text.Json.JsonSerializer.Serialize(new
    {
        reverseProxy = new
        {
            clusters = new
            {
                prefill = new { destinations = new { p = new { address = prefill } } },
                decode = new { destinations = new { d = new { address = decode } } },
            },
        },
    }));

    private string Write(string json)
    {
        string path = directory.Combine($"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
