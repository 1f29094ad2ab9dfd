using PdServe.Engine.Cache;
using PdServe.Engine.FastPath;
using PdServe.Engine.Generation;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.FastPath;

/// <summary>
/// The fused decode step against the torch model on twin caches: same logits (fp32 tightly, bf16 and int8 within
/// their rounding), same cache contents, for every architecture the engine loads, batches of different lengths,
/// skipped blocks and a prompt KV cut to the token-aware policy's positions.
/// </summary>
public sealed class FastDecoderTests
{
    private static CausalLm Load(ModelConfig config, ScalarType decodeDtype, IReadOnlySet<int>? skip = null, int seed = 7)
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, config, seed);
        ModelDirectory model = ModelDirectory.Open(directory.Path);
        using SafeTensorsCheckpoint weights = model.OpenWeights();
        return CausalLm.Load(model.Config, weights, new ModelLoadOptions
        {
            SkippedBlocks = skip ?? new HashSet<int>(),
            PrefillDtype = ScalarType.Float32,
            DecodeDtype = decodeDtype,
            TwoThreadDecode = false,
        });
    }

    /// <summary>Max |fast − torch| over the logits of <paramref name="steps"/> steps, relative to the logits' spread.</summary>
    private static double CompareSteps(CausalLm model, int[] promptLengths, int steps, WeightFormat? format = null, KvPolicy? policy = null,
        int workers = 2, double cacheTolerance = 1e-3)
    {
        int vocab = model.Config.VocabSize;
        using KvCache torchCache = model.CreateCache(promptLengths.Length, 128);
        using KvCache fastCache = model.CreateCache(promptLengths.Length, 128);
        int[][] sequences = promptLengths.Select((length, i) => TinyModels.RandomTokens(length + steps, vocab, seed: 40 + i)).ToArray();
        for (int s = 0; s < sequences.Length; s++)
        {
            foreach (KvCache cache in new[] { torchCache, fastCache })
            {
                model.Prefill(sequences[s][..promptLengths[s]], cache, slot: s).Dispose();
                if (policy is null) continue;
                foreach (int block in model.Plan.RunBlocks)
                {
                    if (policy.KeptCount(block, promptLengths[s]) < promptLengths[s])
                        cache.RetainEntries(s, block, policy.KeptPositions(block, promptLengths[s]));
                }
            }
        }
        using var fast = new FastDecoder(model, promptLengths.Length, workers, format);
        double worst = 0;
        for (int step = 0; step < steps; step++)
        {
            int[] positions = promptLengths.Select(length => length + step).ToArray();
            int[] tokens = sequences.Select((sequence, s) => sequence[positions[s]]).ToArray();
            using Tensor expected = model.DecodeStep(tokens, positions, torchCache);
            using Tensor actual = fast.Step(tokens, positions, fastCache);
            Assert.Equal(expected.shape, actual.shape);
            double spread = expected.std().item<float>();
            worst = Math.Max(worst, TinyModels.MaxAbsDifference(actual, expected) / spread);
        }
        // The cache holds what torch's append wrote, entry for entry.
        foreach (int block in model.Plan.RunBlocks)
        {
            for (int s = 0; s < promptLengths.Length; s++)
            {
                Assert.Equal(torchCache.Length(s, block), fastCache.Length(s, block));
                (Tensor tk, Tensor tv) = torchCache.Read(s, block);
                (Tensor fk, Tensor fv) = fastCache.Read(s, block);
                using (tk) using (tv) using (fk) using (fv)
                {
                    Assert.True(TinyModels.MaxAbsDifference(tk, fk) < cacheTolerance * Math.Max(1, tk.abs().max().item<float>()), $"keys of block {block} slot {s}");
                    Assert.True(TinyModels.MaxAbsDifference(tv, fv) < cacheTolerance * Math.Max(1, tv.abs().max().item<float>()), $"values of block {block} slot {s}");
                }
            }
        }
        return worst;
    }

    public static TheoryData<string> Architectures => ["llama-gqa", "llama-tied", "qwen2-bias", "llama3-rope"];

    private static ModelConfig Config(string name) => name switch
    {
        "llama-gqa" => TinyCheckpoint.LlamaGqa(),
        "llama-tied" => TinyCheckpoint.LlamaTied(),
        "qwen2-bias" => TinyCheckpoint.Qwen2WithBias(tieWordEmbeddings: false),
        "llama3-rope" => TinyCheckpoint.Llama3RopeScaling(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Fp32_steps_match_torch_for_one_and_several_sequences_of_different_lengths(string architecture)
    {
        using CausalLm model = Load(Config(architecture), ScalarType.Float32);
        Assert.InRange(CompareSteps(model, [5], steps: 4), 0, 1e-4);
        Assert.InRange(CompareSteps(model, [3, 11, 6], steps: 4), 0, 1e-4);
    }

    [Fact]
    public void Sixteen_sequences_skipped_blocks_and_a_policy_pruned_prompt_kv_match_torch()
    {
        using CausalLm model = Load(TinyCheckpoint.DefaultConfig(numLayers: 4), ScalarType.Float32, skip: new HashSet<int> { 2 });
        Assert.Equal([0, 1, 3], model.Plan.RunBlocks);
        int[] lengths = Enumerable.Range(0, 16).Select(i => 4 + i % 7).ToArray();
        Assert.InRange(CompareSteps(model, lengths, steps: 3), 0, 1e-4);
        var policy = new KvPolicy([1, 3], 1, 2, KvWireDtype.Float32);
        Assert.InRange(CompareSteps(model, [9, 12], steps: 4, policy: policy), 0, 1e-4);
    }

    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("llama-tied")]
    [InlineData("qwen2-bias")]
    public void A_torch_model_on_int8_round_trip_weights_decodes_what_the_int8_fused_step_decodes(string architecture)
    {
        // What `pdserve eval --fast-weights int8` scores: torch on the dequantized int8 weights must be the fused int8
        // step up to summation order, from the same prompt KV (the prefill stage stays on the checkpoint's weights).
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, Config(architecture), seed: 7);
        ModelDirectory files = ModelDirectory.Open(directory.Path);
        var options = new ModelLoadOptions { PrefillDtype = ScalarType.Float32, DecodeDtype = ScalarType.Float32, TwoThreadDecode = false };
        using SafeTensorsCheckpoint weights = files.OpenWeights();
        using CausalLm model = CausalLm.Load(files.Config, weights, options);
        var int8 = new Int8RoundTripWeights(weights, files.Config);
        using CausalLm roundTrip = CausalLm.Load(int8.Config, int8, options);
        Assert.False(int8.Config.TieWordEmbeddings);
        // Quantized: the projections differ from the checkpoint's; the embeddings and norms do not.
        Assert.True(TinyModels.MaxAbsDifference(model.Blocks[0].Attention.Qkv.Weight, roundTrip.Blocks[0].Attention.Qkv.Weight) > 0);
        Assert.Equal(0, TinyModels.MaxAbsDifference(model.EmbeddingWeight, roundTrip.EmbeddingWeight));

        int[] promptLengths = [5, 9];
        const int steps = 3;
        using KvCache torchCache = model.CreateCache(promptLengths.Length, 64);
        using KvCache fastCache = model.CreateCache(promptLengths.Length, 64);
        int[][] sequences = promptLengths.Select((length, i) => TinyModels.RandomTokens(length + steps, model.Config.VocabSize, seed: 60 + i)).ToArray();
        for (int s = 0; s < sequences.Length; s++)
        {
            model.Prefill(sequences[s][..promptLengths[s]], torchCache, slot: s).Dispose();
            model.Prefill(sequences[s][..promptLengths[s]], fastCache, slot: s).Dispose();
        }
        using var fast = new FastDecoder(model, promptLengths.Length, workers: 2, WeightFormat.Int8);
        for (int step = 0; step < steps; step++)
        {
            int[] positions = promptLengths.Select(length => length + step).ToArray();
            int[] tokens = sequences.Select((sequence, s) => sequence[positions[s]]).ToArray();
            using Tensor expected = roundTrip.DecodeStep(tokens, positions, torchCache);
            using Tensor actual = fast.Step(tokens, positions, fastCache);
            Assert.InRange(TinyModels.MaxAbsDifference(actual, expected) / expected.std().item<float>(), 0, 1e-4);
        }
    }

    [Fact]
    public void Int8_steps_are_bitwise_the_same_run_after_run_and_for_any_worker_count()
    {
        // Greedy output with --fast-weights int8 is reproducible: each output row and attention head is summed by one
        // worker in a fixed order, so neither thread timing nor the node's thread count changes a logit.
        using CausalLm model = Load(TinyCheckpoint.LlamaGqa(), ScalarType.Float32);
        int[] prompt = TinyModels.RandomTokens(7, model.Config.VocabSize, seed: 5);
        float[] Logits(int workers)
        {
            using KvCache cache = model.CreateCache(1, 32);
            model.Prefill(prompt, cache, slot: 0).Dispose();
            using var fast = new FastDecoder(model, 1, workers, WeightFormat.Int8);
            var all = new List<float>();
            for (int step = 0; step < 3; step++)
            {
                using Tensor logits = fast.Step([prompt[step]], [prompt.Length + step], cache);
                all.AddRange(logits.data<float>().ToArray());
            }
            return all.ToArray();
        }
        float[] reference = Logits(2);
        Assert.Equal(reference, Logits(2));
        Assert.Equal(reference, Logits(1));
        Assert.Equal(reference, Logits(3));
    }

    [Fact]
    public void Bf16_and_int8_weights_stay_within_their_rounding()
    {
        using CausalLm bf16 = Load(TinyCheckpoint.LlamaGqa(), ScalarType.BFloat16);
        // Torch rounds the activations to bf16 before each product; the kernels keep them f32.
        Assert.InRange(CompareSteps(bf16, [6, 9], steps: 3, cacheTolerance: 0.05), 0, 0.05);
        using CausalLm fp32 = Load(TinyCheckpoint.LlamaGqa(), ScalarType.Float32);
        Assert.InRange(CompareSteps(fp32, [6, 9], steps: 3, format: WeightFormat.Int8, cacheTolerance: 0.05), 0, 0.1);
    }

    [Fact]
    public async Task The_engine_with_the_fast_kernel_generates_what_the_torch_kernel_generates()
    {
        using CausalLm model = Load(TinyCheckpoint.LlamaGqa(), ScalarType.Float32);
        async Task<int[][]> Generate(DecodeKernel kernel)
        {
            using var engine = new InferenceEngine(model, [], new EngineOptions { MaxBatchSize = 4, DecodeKernel = kernel, TorchThreads = 1 });
            var requests = Enumerable.Range(0, 3).Select(async i =>
            {
                var tokens = new List<int>();
                await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(TinyModels.RandomTokens(4 + 3 * i, model.Config.VocabSize, seed: i),
                                   new SamplingParams { Temperature = 0, MaxTokens = 10, IgnoreEos = true })))
                    tokens.Add(token.Token.TokenId);
                return tokens.ToArray();
            });
            return await Task.WhenAll(requests);
        }
        int[][] torchTokens = await Generate(DecodeKernel.Torch);
        int[][] fastTokens = await Generate(DecodeKernel.Fast);
        Assert.Equal(torchTokens, fastTokens);
        Assert.All(fastTokens, t => Assert.Equal(10, t.Length));
    }

    [RequiresSharedModelFact]
    public async Task Stories260k_greedy_text_is_exact_with_the_fast_kernel_in_fp32()
    {
        using LoadedModel loaded = LoadedModel.Load(SharedModels.Stories260kPath,
            new ModelLoadOptions { PrefillDtype = ScalarType.Float32, DecodeDtype = ScalarType.Float32, TwoThreadDecode = false });
        using var engine = new InferenceEngine(loaded.Model, loaded.EosTokenIds, new EngineOptions { DecodeKernel = DecodeKernel.Fast, TorchThreads = 1 });
        var ids = new List<int>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(loaded.EncodePrompt(""),
                           new SamplingParams { Temperature = 0, MaxTokens = 40 })))
            ids.Add(token.Token.TokenId);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily. She loved to play outside in the park.", loaded.Tokenizer.Decode(ids));
    }
}
