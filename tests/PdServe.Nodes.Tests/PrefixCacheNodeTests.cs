using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Contracts;
using PdServe.Engine.Cache;
using PdServe.Engine.Loading;
using PdServe.NodeHosting;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// The prefill node's prefix cache through a real node: a prompt sharing full blocks with an earlier one reuses them,
/// says so in the trailer and the metrics, and streams the same KV and first tokens as a node without the cache.
/// </summary>
public sealed class PrefixCacheNodeTests : IDisposable
{
    /// <summary>4 blocks × (keys, values) × 2 KV heads × 128 tokens × 16 dims × 4 bytes.</summary>
    private const long BlockBytes = 4 * 2 * 2 * 128 * 16 * 4;

    private readonly TempDirectory directory = new("pdserve-prefix");
    private readonly HttpClient http = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    private readonly string model;
    private readonly ModelConfig config;

    public PrefixCacheNodeTests()
    {
        // The tests' usual tiny model, with room for prompts of several 128-token blocks.
        model = directory.Combine("model");
        config = TinyTokenizer.WriteModel(model, TinyCheckpoint.DefaultConfig(maxPositionEmbeddings: 1024), seed: 5);
    }

    public void Dispose()
    {
        http.Dispose();
        directory.Dispose();
    }

    private Task<NodePair> StartAsync(long prefixCacheBytes) => NodePair.StartAsync(
        NodePair.PrefillOptions(model) with { PrefixCacheBytes = prefixCacheBytes },
        NodePair.DecodeOptions(model) with { MaxContextTokens = 1024 });

    [Fact]
    public async Task A_prompt_sharing_two_blocks_reuses_them_and_streams_the_kv_of_a_node_without_the_cache()
    {
        int[] shared = TinyModels.RandomTokens(300, config.VocabSize, seed: 1);
        int[] first = [.. shared, .. TinyModels.RandomTokens(20, config.VocabSize, seed: 2)];
        int[] second = [.. shared, .. TinyModels.RandomTokens(30, config.VocabSize, seed: 3)];
        await using NodePair cached = await StartAsync(256L << 20);
        await using NodePair uncached = await StartAsync(0);
        Assert.Null(uncached.PrefillState.PrefixCache);

        Streamed firstCached = await PrefillAsync(cached, first);
        Streamed secondCached = await PrefillAsync(cached, second);
        Streamed secondUncached = await PrefillAsync(uncached, second);
        Assert.Equal(0, firstCached.Trailer.CachedPromptTokens);
        // 300 shared tokens hold two full blocks of 128; the third block differs.
        Assert.Equal(256, secondCached.Trailer.CachedPromptTokens);
        Assert.Equal(0, secondUncached.Trailer.CachedPromptTokens);

        // What the decode side receives: the same layers, positions and bytes, every position of every layer.
        Assert.Equal(secondUncached.Trailer.BytesSent, secondCached.Trailer.BytesSent);
        Assert.Equal(secondUncached.Kv.Keys.Order(), secondCached.Kv.Keys.Order());
        foreach (var ((layer, part), expected) in secondUncached.Kv)
        {
            float[] actual = secondCached.Kv[(layer, part)];
            Assert.Equal(2 * 16 * second.Length, expected.Length); // KV heads × positions × head dim
            // bf16 prefill (the node's default); measured identical here, the allowance is the engine tests' bf16 one.
            Assert.InRange(expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), 0, 1e-2f);
        }
        Assert.Equal(secondUncached.Trailer.FirstTokens.Select(t => t.TokenId), secondCached.Trailer.FirstTokens.Select(t => t.TokenId));

        // Through the decode node: the same greedy continuation with and without the cache (a third hit of 256).
        GenerateResult viaCache = await cached.Client.GenerateAsync(DecodeTestClient.Greedy(second, 6, cached.PrefillAddress));
        GenerateResult viaCompute = await uncached.Client.GenerateAsync(DecodeTestClient.Greedy(second, 6, uncached.PrefillAddress));
        Assert.Equal(viaCompute.Tokens(), viaCache.Tokens());

        // A request that scores its prompt computes every position: no lookup, nothing counted.
        var scored = DecodeTestClient.Greedy(second, 2, cached.PrefillAddress);
        scored.Sampling.PromptLogprobs = 1;
        Assert.Contains((await cached.Client.GenerateAsync(scored)).Events, e => e.PromptLogprobs is not null);

        string metrics = await http.GetStringAsync(new Uri(cached.Prefill.Address, "/metrics"));
        Assert.Equal(first.Length + 2 * second.Length, Value(metrics, "pdserve_prefix_cache_query_tokens_total"));
        Assert.Equal(2 * 256, Value(metrics, "pdserve_prefix_cache_hit_tokens_total"));
        Assert.Equal(2 * BlockBytes, Value(metrics, "pdserve_prefix_cache_bytes"));
        Assert.Equal(0, Value(metrics, "pdserve_prefix_cache_evictions_total"));
        Assert.Equal(BlockBytes, cached.PrefillState.PrefixCache!.BytesPerBlock);
        string off = await http.GetStringAsync(new Uri(uncached.Prefill.Address, "/metrics"));
        Assert.Equal(0, Value(off, "pdserve_prefix_cache_hit_tokens_total"));
        Assert.Equal(0, Value(off, "pdserve_prefix_cache_bytes"));
    }

    [Fact]
    public async Task A_full_cache_evicts_the_least_recently_used_block_and_counts_it()
    {
        await using NodePair nodes = await StartAsync(2 * BlockBytes);
        int[] a = TinyModels.RandomTokens(200, config.VocabSize, seed: 4);
        int[] b = TinyModels.RandomTokens(200, config.VocabSize, seed: 5);
        int[] c = TinyModels.RandomTokens(200, config.VocabSize, seed: 6);
        await PrefillAsync(nodes, a);
        await PrefillAsync(nodes, b);
        Assert.Equal(128, (await PrefillAsync(nodes, a)).Trailer.CachedPromptTokens);
        await PrefillAsync(nodes, c); // evicts b's block, the least recently used
        Assert.Equal(0, (await PrefillAsync(nodes, b)).Trailer.CachedPromptTokens); // and b's return evicts a's
        Assert.Equal(128, (await PrefillAsync(nodes, c)).Trailer.CachedPromptTokens);

        string metrics = await http.GetStringAsync(new Uri(nodes.Prefill.Address, "/metrics"));
        Assert.Equal(2, Value(metrics, "pdserve_prefix_cache_evictions_total"));
        Assert.Equal(2 * BlockBytes, Value(metrics, "pdserve_prefix_cache_bytes"));
        Assert.Equal(2 * 128, Value(metrics, "pdserve_prefix_cache_hit_tokens_total"));
    }

    [Theory]
    [InlineData("--prefix-block-tokens", "100")]
    [InlineData("--prefix-block-tokens", "0")]
    [InlineData("--prefix-cache-mb", "-1")]
    public void A_bad_prefix_cache_flag_is_one_line_naming_it_and_exit_code_2(string flag, string value)
    {
        var stderr = new StringWriter();
        int code = Cli.Program.Run(["prefill", "--model", model, "--port", $"{NodeProcess.FreePort()}", flag, value], new StringWriter(), stderr);
        Assert.Equal(2, code);
        Assert.Contains(flag, Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>One prefill call's stream as a decode node reads it: each (layer, part)'s float32 rows, and the trailer.</summary>
    private sealed record Streamed(Dictionary<(int Layer, KvPart Part), float[]> Kv, KvTrailer Trailer);

    /// <summary>Calls the prefill node as a decode node would (every run layer, greedy) and collects the stream.</summary>
    private static async Task<Streamed> PrefillAsync(NodePair nodes, int[] prompt)
    {
        StageModel stage = nodes.PrefillState.Model;
        var request = new PrefillRequest
        {
            RequestId = Guid.NewGuid().ToString("N"),
            Sampling = new SamplingOptions { Temperature = 0, MaxTokens = 4 },
            N = 1,
            ModelFingerprint = stage.ModelFingerprint,
            PlanFingerprint = stage.PlanFingerprint,
        };
        request.PromptTokenIds.AddRange(prompt);
        request.Layers.AddRange(stage.Loaded.Model.Plan.RunBlocks);
        using GrpcChannel channel = GrpcChannel.ForAddress(nodes.Prefill.Address);
        using AsyncServerStreamingCall<PrefillEvent> call = new PrefillService.PrefillServiceClient(channel).Prefill(request);
        var chunks = new List<KvChunk>();
        KvTrailer? trailer = null;
        await foreach (PrefillEvent item in call.ResponseStream.ReadAllAsync())
        {
            if (item.Chunk is { } chunk) chunks.Add(chunk);
            if (item.Trailer is { } last) trailer = last;
        }
        Assert.NotNull(trailer);
        var kv = chunks.GroupBy(chunk => (chunk.Layer, chunk.Part)).ToDictionary(group => group.Key,
            group => group.OrderBy(chunk => chunk.Offset).SelectMany(chunk => MemoryMarshal.Cast<byte, float>(chunk.Data.Span).ToArray()).ToArray());
        return new Streamed(kv, trailer);
    }

    /// <summary>The value of an unlabelled metric in Prometheus text, failing when it is absent.</summary>
    private static double Value(string metrics, string name)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal)) return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        }
        Assert.Fail($"{name} is not in /metrics");
        return double.NaN;
    }
}
