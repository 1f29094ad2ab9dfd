using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PdServe.Cli.Cluster;
using PdServe.Decode;
using PdServe.Gateway.Hosting;
using PdServe.Gateway.Model;
using PdServe.NodeHosting;
using PdServe.Prefill;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Serving;

/// <summary>
/// A tiny model served in-process: one prefill node, one decode node and the gateway `pdserve up` would configure,
/// all on 127.0.0.1 with free ports. Disposing stops all three and deletes the model.
/// </summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private const string NodeToken = "serve-bench-test";

    private readonly TempDirectory directory = new("pdserve-serve-bench");
    private readonly List<RunningNode> nodes = [];
    private WebApplication? gateway;

    public string ModelDirectory => directory.Combine("model");
    public string Url { get; private set; } = "";

    public static async Task<InProcessCluster> StartAsync()
    {
        var cluster = new InProcessCluster();
        try
        {
            TinyTokenizer.WriteModel(cluster.ModelDirectory, TinyCheckpoint.LlamaGqa(), seed: 4);
            var host = new NodeHostSettings { MinimumLogLevel = LogLevel.Warning, NodeToken = NodeToken, ShutdownTimeout = TimeSpan.FromSeconds(5) };
            RunningNode prefill = await PrefillNodeHost.StartAsync(new PrefillNodeOptions { ModelDirectory = cluster.ModelDirectory, Host = host, Threads = 1 });
            cluster.nodes.Add(prefill);
            RunningNode decode = await DecodeNodeHost.StartAsync(new DecodeNodeOptions
            {
                ModelDirectory = cluster.ModelDirectory, Host = host, Threads = 1, MaxContextTokens = 256,
                TrustedPrefillNodes = [$"http://127.0.0.1:{prefill.Address.Port}"],
            });
            cluster.nodes.Add(decode);
            await Task.WhenAll(prefill.Readiness.Loaded, decode.Readiness.Loaded);

            NodeSpec[] specs = [new(NodeRole.Prefill, 0, prefill.Address.Port, 1, []), new(NodeRole.Decode, 0, decode.Address.Port, 1, [])];
            cluster.gateway = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = "http://127.0.0.1:0",
                Overrides = LocalCluster.GatewaySettings(cluster.ModelDirectory, ServedModel.Load(cluster.ModelDirectory, null).Id, NodeToken, specs),
                LogLevel = LogLevel.Warning,
            });
            await cluster.gateway.StartAsync();
            cluster.Url = GatewayApplication.ListeningAddress(cluster.gateway);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (gateway is not null)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
        foreach (var node in nodes) await node.DisposeAsync();
        directory.Dispose();
    }
}
