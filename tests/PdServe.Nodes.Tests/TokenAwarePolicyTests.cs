using PdServe.Engine;
using PdServe.Engine.Generation;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Engine.Sampling;
using PdServe.Pruning.KvSelection;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>
/// With the token-aware policy on, the bytes sent follow the formula exactly, and the decode node attends to exactly the
/// kept positions: its tokens and logprobs equal the engine's in-process path that drops the same positions.
/// </summary>
public sealed class TokenAwarePolicyTests : IDisposable
{
    private const int BytesPerPosition = 2 * 2 * 16 * 4; // keys and values × kv heads × head dim × float32
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    /// <summary>Float32 bytes of one layer that keeps <paramref name="kept"/> positions.</summary>
    private static long Layer(int kept) => (long)kept * BytesPerPosition;

    [Fact]
    public async Task Bytes_sent_follow_the_formula_and_decode_equals_the_in_process_position_drop()
    {
        string plan = model.WritePlan("policy", selectedLayers: [1, 3], first: 2, last: 3);
        await using NodePair nodes = await NodePair.StartAsync(model.Path, plan);
        using LoadedModel reference = LoadedModel.Load(model.Path, new ModelLoadOptions { TwoThreadDecode = false });
        var policy = PrunePlan.Load(plan).KvPolicy;
        // The same decode kernel as the node's, so the logprobs may be compared exactly.
        DecodeKernel kernel = NodePair.DecodeOptions(model.Path).DecodeKernel;
        using var pruned = new InferenceEngine(reference.Model, reference.EosTokenIds,
            new EngineOptions { PromptKvPolicy = policy, TorchThreads = 1, MaxContextTokens = 256, DecodeKernel = kernel });
        using var unpruned = new InferenceEngine(reference.Model, reference.EosTokenIds,
            new EngineOptions { TorchThreads = 1, MaxContextTokens = 256, DecodeKernel = kernel });

        foreach (int length in new[] { 3, 5, 6, 40, 150 })
        {
            int[] prompt = TinyModels.RandomTokens(length, model.Config.VocabSize, seed: length);
            GenerateResult pd = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(prompt, 10, nodes.PrefillAddress));

            int selectedKept = length <= 5 ? length : 5;
            Assert.Equal(4 * Layer(length), pd.Summary.KvBytesFull);
            Assert.Equal(2 * Layer(length) + 2 * Layer(selectedKept), pd.Summary.KvBytesSent);

            var request = new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxTokens = 10, IgnoreEos = true });
            var expected = await pruned.GenerateAsync(request).ToListAsync();
            Assert.Equal(expected.Select(t => t.Token.TokenId), pd.Tokens());
            Assert.Equal(expected.Select(t => t.Token.Logprob), pd.Logprobs());
            if (length == 150)
            {
                // The positions really were dropped: the full cache gives other probabilities.
                var full = await unpruned.GenerateAsync(request).ToListAsync();
                Assert.NotEqual(full.Select(t => t.Token.Logprob), pd.Logprobs());
            }
        }
    }

    [Theory]
    [InlineData("bfloat16")]
    [InlineData("int8")]
    public async Task The_wire_dtype_saving_is_counted_apart_from_the_pruning_saving(string wireDtype)
    {
        // Decode skips block 2: its KV is not sent at all; blocks 1 and 3 keep the first 2 and last 3 positions.
        string plan = model.WritePlan(wireDtype, decodeSkip: [2], selectedLayers: [1, 3], first: 2, last: 3, wireDtype: wireDtype);
        await using NodePair nodes = await NodePair.StartAsync(model.Path, plan);
        const int length = 60;
        int[] prompt = TinyModels.RandomTokens(length, model.Config.VocabSize, seed: 9);
        GenerateResult pd = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(prompt, 6, nodes.PrefillAddress));

        // Full is every layer of the model, skipped block included: the saving from not sending block 2 counts.
        long full = 4 * Layer(length);
        long prunedFloat32 = Layer(length) + 2 * Layer(5);
        long scales = 3 * 2 * (2 * 16) * 4; // 3 layers × (keys, values) × channels × float32
        Assert.Equal(full, pd.Summary.KvBytesFull);
        Assert.Equal(wireDtype == "int8" ? prunedFloat32 / 4 + scales : prunedFloat32 / 2, pd.Summary.KvBytesSent);
        Assert.Equal(6, pd.Tokens().Length);

        var metrics = nodes.DecodeState.Metrics.TransferBytes;
        Assert.Equal(full, metrics.WithLabels("full").Value);
        Assert.Equal(pd.Summary.KvBytesSent, metrics.WithLabels("sent").Value);
    }

    [Fact]
    public async Task Full_means_what_the_prune_reports_bytes_ratio_means()
    {
        // The prune report's ratio (by formula) and the nodes' accounting share one "full": every layer of the model,
        // every prompt position, float32 — so a float32 plan's full ÷ sent is that ratio, skipped blocks included.
        string plan = model.WritePlan("ratio", decodeSkip: [2], selectedLayers: [1, 3], first: 2, last: 3);
        await using NodePair nodes = await NodePair.StartAsync(model.Path, plan);
        const int length = 60;
        int[] prompt = TinyModels.RandomTokens(length, model.Config.VocabSize, seed: 12);
        GenerateResult pd = await nodes.Client.GenerateAsync(DecodeTestClient.Greedy(prompt, 2, nodes.PrefillAddress));

        PrunePlan loaded = PrunePlan.Load(plan);
        Assert.Equal(KvBytes.Ratio(model.Config.NumLayers, loaded.DecodeSkipSet, loaded.KvPolicy, length),
            (double)pd.Summary.KvBytesFull / pd.Summary.KvBytesSent, 12);
    }
}
