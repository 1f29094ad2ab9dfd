using System.Net;
using System.Net.Http.Headers;
using PdServe.Cli;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Cluster;
using PdServe.Cli.Commands;
using PdServe.Cli.Terminal;
using PdServe.TestSupport;

namespace PdServe.Gateway.Tests;

/// <summary>
/// Who may read <c>/pools</c> (the nodes' internal addresses) and <c>/metrics</c>: with API keys configured, only a
/// client with a key, unless <c>Gateway:OpenOperationalEndpoints</c> opens them; <c>/healthz</c> is always open.
/// And the CLI's side of it: a warning for a gateway exposed without keys, and bench serve's key on <c>/metrics</c>.
/// </summary>
public sealed class OperationalEndpointTests
{
    private const string Key = "sk-ops-key";

    private static async Task<HttpStatusCode> GetAsync(TestCluster cluster, string path, string? apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await cluster.Http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        return response.StatusCode;
    }

    [Fact]
    public async Task With_api_keys_pools_and_metrics_need_a_key_like_the_api_and_healthz_stays_open()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { ApiKeys = [Key] });
        foreach (string path in (string[])["/pools", "/metrics", "/v1/models"])
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(cluster, path, null));
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(cluster, path, "sk-wrong"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, path, Key));
        }
        Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, "/healthz", null));
    }

    [Fact]
    public async Task Open_operational_endpoints_serve_pools_and_metrics_without_a_key_but_the_api_still_needs_one()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            ApiKeys = [Key],
            Settings = new Dictionary<string, string?> { ["Gateway:OpenOperationalEndpoints"] = "true" },
        });
        Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, "/pools", null));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, "/metrics", null));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, "/healthz", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(cluster, "/v1/models", null));
    }

    [Fact]
    public async Task Without_api_keys_everything_is_open()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (string path in (string[])["/pools", "/metrics", "/v1/models", "/healthz"])
            Assert.Equal(HttpStatusCode.OK, await GetAsync(cluster, path, null));
    }

    [Fact]
    public async Task Bench_serve_reads_a_keyed_gateways_metrics_with_its_api_key()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { ApiKeys = [Key] });
        using var response = await cluster.PostAsync("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"count me\",\"max_tokens\":3}", Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var baseUrl = new Uri(cluster.Address + "/");

        var counters = await GatewayCounters.ReadAsync(cluster.Http, baseUrl, Key, CancellationToken.None);
        Assert.NotNull(counters);
        Assert.Equal(3, counters.GenerationTokens);
        Assert.Null(await GatewayCounters.ReadAsync(cluster.Http, baseUrl, null, CancellationToken.None));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("localhost", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("*", false)]
    [InlineData("10.0.0.7", false)]
    [InlineData("gateway.internal", false)]
    public void Only_loopback_hosts_count_as_private(string host, bool loopback) =>
        Assert.Equal(loopback, GatewayCommand.IsLoopback(host));

    public static IEnumerable<object[]> ExposureCases() =>
    [
        // 192.0.2.1 (TEST-NET-1) is on no machine, so the gateway fails to bind after its checks: nothing listens.
        ["192.0.2.1", false, true],
        ["192.0.2.1", true, false],
        ["127.0.0.1", false, false],
    ];

    [Theory]
    [MemberData(nameof(ExposureCases))]
    public async Task The_gateway_command_warns_on_stderr_when_it_listens_beyond_loopback_without_api_keys(string host, bool keys, bool warns)
    {
        using var directory = new TempDirectory("pdserve-gateway-cli");
        TestCluster.WriteModel(directory.Path, null);
        string config = directory.Combine("gateway.json");
        File.WriteAllText(config, keys ? $"{{\"Gateway\":{{\"ApiKeys\":[\"{Key}\"]}}}}" : "{\"Gateway\":{}}");
        // On loopback the bind would succeed: a port already taken makes it fail the same way.
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = host == "127.0.0.1" ? ((IPEndPoint)taken.LocalEndpoint).Port : NodeSpec.FreePort();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        int code = await Program.RunAsync(
            ["gateway", "--model", directory.Path, "--config", config, "--host", host, "--port", port.ToString()],
            new CliContext(stdout, stderr), stop.Token);

        Assert.NotEqual(ExitCodes.Ok, code);
        Assert.DoesNotContain("gateway listening", stdout.ToString());
        string errors = stderr.ToString();
        if (warns)
        {
            Assert.Contains($"warning: the gateway listens on {host} without API keys", errors);
            Assert.Contains("Gateway:ApiKeys", errors);
        }
        else
            Assert.DoesNotContain("warning", errors);
    }
}
