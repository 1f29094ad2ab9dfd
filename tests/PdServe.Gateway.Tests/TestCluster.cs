using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdServe.Contracts;
using PdServe.Engine.Tokenization;
using PdServe.Gateway.Hosting;
using PdServe.Gateway.Tests.Fakes;
using PdServe.TestSupport;

namespace PdServe.Gateway.Tests;

/// <summary>
/// A gateway on 127.0.0.1:0 in front of fake decode and prefill nodes, over a tiny model directory that holds only
/// config.json and the tiny tokenizer (the gateway must not need weights). Disposing stops everything.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const string ModelId = "tiny";
    public const string NodeToken = "node-secret";

    private TestCluster(TempDirectory modelDirectory, TextTokenizer tokenizer)
    {
        ModelDirectory = modelDirectory;
        Tokenizer = tokenizer;
        Script = new FakeScript(tokenizer);
    }

    public TempDirectory ModelDirectory { get; }
    public TextTokenizer Tokenizer { get; }
    public FakeScript Script { get; }
    public List<FakeDecodeNode> Decode { get; } = [];
    public List<FakePrefillNode> Prefill { get; } = [];
    public WebApplication Gateway { get; private set; } = null!;
    public string Address { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;

    public sealed record Options
    {
        public int DecodeNodes { get; init; } = 2;
        public int PrefillNodes { get; init; } = 1;
        public string DecodePolicy { get; init; } = "RoundRobin";
        public string PrefillPolicy { get; init; } = "RoundRobin";
        public IReadOnlyList<string> ApiKeys { get; init; } = [];
        public string? ChatTemplate { get; init; }
        /// <summary>Extra configuration (wins over the defaults here).</summary>
        public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
        public IReadOnlyList<string> ConfigFiles { get; init; } = [];
        /// <summary>Write no pools into the overrides (a config file supplies them).</summary>
        public bool PoolsFromFiles { get; init; }
    }

    public static async Task<TestCluster> StartAsync(Options? options = null)
    {
        options ??= new Options();
        var directory = new TempDirectory("pdserve-gateway");
        var cluster = new TestCluster(directory, WriteModel(directory.Path, options.ChatTemplate));
        try
        {
            for (int i = 0; i < options.DecodeNodes; i++) cluster.Decode.Add(await FakeDecodeNode.StartAsync(cluster.Script));
            for (int i = 0; i < options.PrefillNodes; i++) cluster.Prefill.Add(await FakePrefillNode.StartAsync());

            var settings = new Dictionary<string, string?>
            {
                ["Gateway:ModelDirectory"] = directory.Path,
                ["Gateway:ModelName"] = ModelId,
                ["Gateway:NodeToken"] = NodeToken,
                ["Gateway:LoadPollInterval"] = "00:00:00.200",
            };
            for (int i = 0; i < options.ApiKeys.Count; i++) settings[$"Gateway:ApiKeys:{i}"] = options.ApiKeys[i];
            if (!options.PoolsFromFiles)
            {
                foreach (var (key, value) in PoolSettings("decode", cluster.Decode.Select(n => n.Address), options.DecodePolicy))
                    settings[key] = value;
                foreach (var (key, value) in PoolSettings("prefill", cluster.Prefill.Select(n => n.Address), options.PrefillPolicy))
                    settings[key] = value;
            }
            foreach (var (key, value) in options.Settings) settings[key] = value;

            cluster.Gateway = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = "http://127.0.0.1:0",
                Overrides = settings,
                ConfigFiles = options.ConfigFiles,
                LogLevel = LogLevel.Warning,
            });
            await cluster.Gateway.StartAsync();
            cluster.Address = GatewayApplication.ListeningAddress(cluster.Gateway);
            cluster.Http = new HttpClient { BaseAddress = new Uri(cluster.Address), Timeout = TimeSpan.FromSeconds(30) };
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A pool's YARP settings (<see cref="GatewayPoolSettings"/>); a failed node returns after 2 s.</summary>
    public static Dictionary<string, string?> PoolSettings(string pool, IEnumerable<string> addresses, string policy) =>
        GatewayPoolSettings.For(pool, addresses, policy, TimeSpan.FromSeconds(2));

    public static TextTokenizer WriteModel(string directory, string? chatTemplate)
    {
        var config = TinyTokenizer.ConfigFor(TinyCheckpoint.DefaultConfig());
        File.WriteAllText(Path.Combine(directory, "config.json"), TinyCheckpoint.ConfigJson(config).ToJsonString());
        TinyTokenizer.Write(directory);
        if (chatTemplate is not null)
        {
            string path = Path.Combine(directory, "tokenizer_config.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            json["chat_template"] = chatTemplate;
            File.WriteAllText(path, json.ToJsonString());
        }
        return TextTokenizer.Load(directory);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string body, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return Http.SendAsync(request);
    }

    public async Task<JsonElement> PostJsonAsync(string path, object body)
    {
        using var response = await PostAsync(path, JsonSerializer.Serialize(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The available node addresses of a pool, from <c>GET /pools</c>.</summary>
    public async Task<IReadOnlyList<string>> AvailableAsync(string pool)
    {
        var pools = JsonDocument.Parse(await Http.GetStringAsync("/pools")).RootElement;
        return pools.EnumerateArray().Single(p => p.GetProperty("pool").GetString() == pool).GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("available").GetBoolean()).Select(n => n.GetProperty("address").GetString()!.TrimEnd('/')).ToList();
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms; fails the test with <paramref name="what"/> after the timeout.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout) Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting until {what}");
            await Task.Delay(50);
        }
        return watch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Gateway is not null)
        {
            await Gateway.StopAsync(new CancellationToken(canceled: true));
            await Gateway.DisposeAsync();
        }
        foreach (var node in Decode) await node.DisposeAsync();
        foreach (var node in Prefill) await node.DisposeAsync();
        ModelDirectory.Dispose();
    }
}
