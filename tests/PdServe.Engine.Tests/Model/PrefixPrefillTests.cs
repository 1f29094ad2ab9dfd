using PdServe.Engine.Cache;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

/// <summary>
/// A prefill that starts from cached prefix blocks (computed by an earlier, different prompt that shares them) gives
/// the KV of every position of every run block, and the last position's logits, of a cold prefill of the same prompt.
/// </summary>
public sealed class PrefixPrefillTests
{
    private const int Block = PrefixBlockCache.DefaultBlockTokens;

    /// <summary>
    /// fp32 must agree within 1e-5 (measured here: up to 5.4e-7, from the fused fp32 attention kernel over another number
    /// of queries). In bf16 the cold prompt and the earlier prompt that filled the cache run their GEMMs over different
    /// row counts, which a GEMM kernel may round differently; measured here the results were identical (0), and this
    /// allowance is what one bf16 rounding step of the tiny model's activations could move a value.
    /// </summary>
    private const float Bf16Tolerance = 1e-2f;

    [Theory]
    // Lengths crossing 1, 2 and 3 blocks; the last token is never reused, so 129 is the first length that reuses one.
    [InlineData(129, 4, 2, "", "fp32")]
    [InlineData(200, 4, 2, "", "fp32")]
    [InlineData(256, 4, 2, "", "fp32")]
    [InlineData(257, 4, 2, "", "fp32")]
    [InlineData(300, 4, 2, "1", "fp32")]
    [InlineData(385, 4, 4, "", "fp32")]
    [InlineData(450, 4, 2, "0,2", "fp32")]
    [InlineData(129, 4, 2, "", "bf16")]
    [InlineData(300, 4, 2, "1", "bf16")]
    [InlineData(450, 4, 2, "", "bf16")]
    public void Prefill_from_cached_blocks_equals_a_cold_prefill(int length, int heads, int kvHeads, string skip, string dtype)
    {
        ScalarType prefillDtype = dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        float tolerance = dtype == "bf16" ? Bf16Tolerance : 1e-5f;
        var skipped = skip.Length == 0 ? new HashSet<int>() : skip.Split(',').Select(int.Parse).ToHashSet();
        ModelConfig config = TinyCheckpoint.DefaultConfig(numHeads: heads, numKvHeads: kvHeads, maxPositionEmbeddings: 512);
        using CausalLm model = TinyModels.Load(config, seed: 31, skip: skipped, prefillDtype: prefillDtype);
        int[] prompt = TinyModels.RandomTokens(length, config.VocabSize, seed: length);
        int shared = PrefixBlockCache.ReusableBlocks(length, Block);
        Assert.True(shared >= 1);
        // An earlier prompt with the same first blocks and another continuation fills the cache.
        int[] earlier = [.. prompt.Take(shared * Block), .. TinyModels.RandomTokens(17, config.VocabSize, seed: 1000 + length)];
        using var cache = model.CreatePrefixCache("test-model", budgetBytes: 1L << 30);
        using (PrefixInsertion insertion = cache.BeginInsert(earlier, cachedTokens: 0))
        {
            using Tensor _ = model.Prefill(earlier, null, 0, onBlockKv: insertion.Capture);
            Assert.Equal(shared, insertion.Commit());
        }

        using var cold = new RecordedKv();
        using Tensor coldLogits = model.Prefill(prompt, null, 0, onBlockKv: cold.Record);
        using PrefixHit hit = cache.Lookup(prompt);
        Assert.Equal(shared * Block, hit.Tokens);
        using var warm = new RecordedKv();
        using Tensor warmLogits = model.Prefill(prompt, null, 0, onBlockKv: warm.Record, cachedPrefix: hit);

        Assert.Equal(model.Plan.RunBlocks, warm.Blocks);
        foreach (int block in model.Plan.RunBlocks)
        {
            Assert.Equal(cold.Keys[block].shape, warm.Keys[block].shape);
            Assert.Equal([config.NumKvHeads, length, config.HeadDim], warm.Keys[block].shape);
            Assert.InRange(TinyModels.MaxAbsDifference(cold.Keys[block], warm.Keys[block]), 0, tolerance);
            Assert.InRange(TinyModels.MaxAbsDifference(cold.Values[block], warm.Values[block]), 0, tolerance);
        }
        Assert.InRange(TinyModels.MaxAbsDifference(coldLogits, warmLogits), 0, tolerance);
        Assert.Equal(coldLogits.argmax().item<long>(), warmLogits.argmax().item<long>());
    }

    [Fact]
    public void The_prefix_kv_reaches_the_decode_cache_and_decoding_continues_as_after_a_cold_prefill()
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig(maxPositionEmbeddings: 512);
        using CausalLm model = TinyModels.Load(config, seed: 8);
        int[] prompt = TinyModels.RandomTokens(140, config.VocabSize, seed: 3);
        using var prefixCache = model.CreatePrefixCache("test-model", 1L << 30);
        using (PrefixInsertion insertion = prefixCache.BeginInsert(prompt, 0))
        {
            using Tensor _ = model.Prefill(prompt, null, 0, onBlockKv: insertion.Capture);
            insertion.Commit();
        }
        using KvCache coldCache = model.CreateCache(1, 160), warmCache = model.CreateCache(1, 160);
        using Tensor coldFirst = model.Prefill(prompt, coldCache, 0);
        using PrefixHit hit = prefixCache.Lookup(prompt);
        using Tensor warmFirst = model.Prefill(prompt, warmCache, 0, cachedPrefix: hit);
        Assert.Equal(prompt.Length, warmCache.Length(0, model.Plan.RunBlocks[0]));
        int next = (int)warmFirst.argmax().item<long>();
        using Tensor coldStep = model.DecodeStep([next], [prompt.Length], coldCache);
        using Tensor warmStep = model.DecodeStep([next], [prompt.Length], warmCache);
        Assert.InRange(TinyModels.MaxAbsDifference(coldStep, warmStep), 0, 1e-5f);
    }

    [Fact]
    public void A_prefix_must_leave_the_last_token_to_compute_cannot_serve_a_scored_prompt_and_ends_on_a_chunk()
    {
        ModelConfig config = TinyCheckpoint.DefaultConfig(maxPositionEmbeddings: 512);
        using CausalLm model = TinyModels.Load(config, seed: 8);
        int[] prompt = TinyModels.RandomTokens(129, config.VocabSize, seed: 5);
        using var prefixCache = model.CreatePrefixCache("test-model", 1L << 30);
        using (PrefixInsertion insertion = prefixCache.BeginInsert(prompt, 0))
        {
            using Tensor _ = model.Prefill(prompt, null, 0, onBlockKv: insertion.Capture);
            insertion.Commit();
        }
        using PrefixHit hit = prefixCache.Lookup(prompt);
        Assert.Equal(128, hit.Tokens);
        Assert.Throws<ArgumentException>(() => model.Prefill(prompt.Take(128).ToArray(), null, 0, cachedPrefix: hit));
        Assert.Throws<ArgumentException>(() => model.Prefill(prompt, null, 0, scoring: new PromptScoring(1), cachedPrefix: hit));
        // Blocks that do not end on a query chunk's boundary could not be resumed from exactly.
        Assert.Throws<ArgumentException>(() => model.CreatePrefixCache("test-model", 1L << 30, blockTokens: 100));
    }

    /// <summary>Copies of the KV a prefill hands out per block (the originals are freed when the callback returns).</summary>
    private sealed class RecordedKv : IDisposable
    {
        public Dictionary<int, Tensor> Keys { get; } = [];
        public Dictionary<int, Tensor> Values { get; } = [];
        public List<int> Blocks { get; } = [];

        public void Record(int block, Tensor keys, Tensor values)
        {
            Blocks.Add(block);
            Keys[block] = keys.clone().DetachFromDisposeScope();
            Values[block] = values.clone().DetachFromDisposeScope();
        }

        public void Dispose()
        {
            foreach (Tensor tensor in Keys.Values.Concat(Values.Values)) tensor.Dispose();
        }
    }
}
