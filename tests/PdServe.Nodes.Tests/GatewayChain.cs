using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PdServe.Decode;
using PdServe.Gateway.Hosting;
using PdServe.NodeHosting;
using PdServe.Prefill;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// The real chain in one process: prefill and decode nodes on 127.0.0.1 (each decode node trusting every prefill
/// node) behind a gateway with h2c health probes every 250 ms. Disposing stops everything, nodes last.
/// </summary>
public sealed class GatewayChain : IAsyncDisposable
{
    public const string ModelName = "model";

    private readonly WebApplication gateway;

    private GatewayChain(WebApplication gateway, List<RunningNode> prefill, List<RunningNode> decode)
    {
        this.gateway = gateway;
        Prefill = prefill;
        Decode = decode;
        Http = new HttpClient { BaseAddress = new Uri(GatewayApplication.ListeningAddress(gateway)), Timeout = TimeSpan.FromSeconds(60) };
    }

    public IReadOnlyList<RunningNode> Prefill { get; }
    public IReadOnlyList<RunningNode> Decode { get; }
    public HttpClient Http { get; }

    /// <param name="prefillPolicy">The pools' load-balancing policies (round robin unless a test needs another).</param>
    public static async Task<GatewayChain> StartAsync(string model, IReadOnlyList<PrefillNodeOptions> prefillOptions,
        IReadOnlyList<DecodeNodeOptions> decodeOptions, IPrefillStreamFilter? firstPrefillFilter = null,
        string prefillPolicy = "RoundRobin", string decodePolicy = "RoundRobin")
    {
        var prefill = new List<RunningNode>();
        var decode = new List<RunningNode>();
        try
        {
            foreach (PrefillNodeOptions options in prefillOptions)
                prefill.Add(await NodePair.StartPrefillAsync(options, prefill.Count == 0 ? firstPrefillFilter : null));
            foreach (DecodeNodeOptions options in decodeOptions)
                decode.Add(await DecodeNodeHost.StartAsync(NodePair.Trusting(options, [.. prefill])));
            await Task.WhenAll(prefill.Concat(decode).Select(n => n.Readiness.Loaded));

            var settings = new Dictionary<string, string?>
            {
                ["Gateway:ModelDirectory"] = model,
                ["Gateway:ModelName"] = ModelName,
                ["Gateway:LoadPollInterval"] = "00:00:00.200",
            };
            AddPool(settings, "prefill", prefill, prefillPolicy);
            AddPool(settings, "decode", decode, decodePolicy);
            WebApplication gateway = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = "http://127.0.0.1:0",
                Overrides = settings,
                LogLevel = LogLevel.Warning,
            });
            await gateway.StartAsync();
            return new GatewayChain(gateway, prefill, decode);
        }
        catch
        {
            foreach (RunningNode node in decode.Concat(prefill)) await node.DisposeAsync();
            throw;
        }
    }

    private static void AddPool(Dictionary<string, string?> settings, string pool, IReadOnlyList<RunningNode> nodes, string policy)
    {
        foreach (var (key, value) in GatewayPoolSettings.For(pool, nodes.Select(n => n.Address.ToString()), policy, TimeSpan.FromSeconds(5)))
            settings[key] = value;
    }

    /// <summary>POST /v1/completions with <paramref name="body"/> (the model name is added); the status and the parsed body.</summary>
    public async Task<(int Status, JsonElement Body)> CompleteAsync(Dictionary<string, object> body)
    {
        body["model"] = ModelName;
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Http.PostAsync("/v1/completions", content);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>The addresses of a pool's available nodes, from GET /pools.</summary>
    public async Task<IReadOnlyList<string>> AvailableAsync(string pool)
    {
        JsonElement pools = JsonDocument.Parse(await Http.GetStringAsync("/pools")).RootElement;
        return pools.EnumerateArray().Single(p => p.GetProperty("pool").GetString() == pool).GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("available").GetBoolean()).Select(n => n.GetProperty("address").GetString()!.TrimEnd('/')).ToList();
    }

    /// <summary>Polls GET /pools until exactly <paramref name="nodes"/> are the pool's available nodes.</summary>
    public async Task WaitUntilAvailableAsync(string pool, params RunningNode[] nodes)
    {
        string[] expected = nodes.Select(NodePair.AddressOf).Order().ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string[] available;
        while (!(available = (await AvailableAsync(pool)).Order().ToArray()).SequenceEqual(expected))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(15))
                Assert.Fail($"the {pool} pool's available nodes stayed [{string.Join(", ", available)}], expected [{string.Join(", ", expected)}]");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await gateway.StopAsync(new CancellationToken(canceled: true));
        await gateway.DisposeAsync();
        foreach (RunningNode node in Decode.Concat(Prefill)) await node.DisposeAsync();
    }
}
