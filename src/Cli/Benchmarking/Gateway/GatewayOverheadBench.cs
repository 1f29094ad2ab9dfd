using System.Diagnostics;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Gateway.Hosting;
using PdServe.Gateway.Model;
using PdServe.Contracts;

namespace PdServe.Cli.Benchmarking.Gateway;

/// <summary>
/// Runs the same load twice per round — <c>Generate</c> straight to a <see cref="SyntheticDecodeNode"/>, and
/// <c>POST /v1/completions</c> through a gateway in front of it (text prompt: tokenizing is part of the gateway's
/// cost) — alternating rounds so that machine noise hits both alike.
/// </summary>
public static class GatewayOverheadBench
{
    private const string Prompt = "And God said, Let there be light: and there was light.";
    private const string Completion = " And God saw the light, that it was good: and God divided the light from the darkness.";

    public static async Task<GatewayOverheadReport> RunAsync(string modelDirectory, int requests, int concurrency, int rounds,
        IProgress<double>? progress = null)
    {
        var model = ServedModel.Load(modelDirectory, null);
        var completionTokens = model.Tokenizer.Encode(Completion, addSpecialTokens: false);
        var promptTokens = model.Tokenizer.Encode(Prompt);
        await using var node = await SyntheticDecodeNode.StartAsync(completionTokens);
        await using var gateway = GatewayApplication.Build(new GatewayHostSettings
        {
            Urls = "http://127.0.0.1:0",
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            Overrides = new Dictionary<string, string?>
            {
                ["Gateway:ModelDirectory"] = model.Directory,
                ["Gateway:ModelName"] = model.Id,
                ["ReverseProxy:Clusters:decode:LoadBalancingPolicy"] = "RoundRobin",
                ["ReverseProxy:Clusters:decode:Destinations:decode0:Address"] = node.Address,
            },
        });
        await gateway.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = new Uri(GatewayApplication.ListeningAddress(gateway)),
        };
        using var channel = GrpcChannel.ForAddress(node.Address);
        var client = new DecodeService.DecodeServiceClient(channel);

        var request = new GenerateRequest { RequestId = "bench", N = 1, Sampling = new SamplingOptions { MaxTokens = completionTokens.Count } };
        request.PromptTokenIds.AddRange(promptTokens);
        var body = new { model = model.Id, prompt = Prompt, max_tokens = completionTokens.Count, temperature = 0 };

        async Task Direct()
        {
            using var call = client.Generate(request);
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }
        async Task ThroughGateway()
        {
            using var response = await http.PostAsJsonAsync("/v1/completions", body);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
        }

        // Warm both paths (JIT, connections) before measuring.
        await MeasureAsync(Direct, Math.Min(200, requests), concurrency);
        await MeasureAsync(ThroughGateway, Math.Min(200, requests), concurrency);
        var direct = new List<double>();
        var throughGateway = new List<double>();
        int perRound = Math.Max(1, requests / rounds);
        for (int round = 0; round < rounds; round++)
        {
            direct.AddRange(await MeasureAsync(Direct, perRound, concurrency));
            throughGateway.AddRange(await MeasureAsync(ThroughGateway, perRound, concurrency));
            progress?.Report((round + 1.0) / rounds);
        }
        await gateway.StopAsync();
        return new GatewayOverheadReport(concurrency, completionTokens.Count, Summarize("direct gRPC", direct), Summarize("gateway", throughGateway));
    }

    private static async Task<List<double>> MeasureAsync(Func<Task> call, int count, int concurrency)
    {
        var latencies = new double[count];
        int next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                long start = Stopwatch.GetTimestamp();
                await call();
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        return [.. latencies];
    }

    private static PathLatency Summarize(string path, List<double> latencies)
    {
        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return new PathLatency(path, sorted.Length, Percentile(0.50), Percentile(0.99), sorted.Average());
    }
}
