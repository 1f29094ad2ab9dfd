using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

/// <summary>What one prefix block of the default model (models/kjv-llama) costs the prefill node, measured on a real prefill.</summary>
public sealed class DefaultModelPrefixBlockTests
{
    [RequiresRepoFileFact("models/kjv-llama/model.safetensors")]
    public void A_default_model_block_holds_1536_KiB_and_a_256_MiB_budget_holds_170_blocks()
    {
        using LoadedModel loaded = LoadedModel.Load(RepoPaths.InRepo("models/kjv-llama")!, new ModelLoadOptions { TwoThreadDecode = false });
        // 24 blocks × (keys, values) × 2 KV heads × 128 tokens × 32 dims × 4 bytes.
        const long expected = 24L * 2 * 2 * 128 * 32 * 4;
        using var cache = loaded.Model.CreatePrefixCache("kjv-llama", budgetBytes: 256L << 20);
        Assert.Equal(expected, cache.BytesPerBlock);
        int[] prompt = TinyModels.RandomTokens(129, loaded.Model.Config.VocabSize, seed: 1);
        using (PrefixInsertion insertion = cache.BeginInsert(prompt, 0))
        {
            using Tensor _ = loaded.Model.Prefill(prompt, null, 0, onBlockKv: insertion.Capture);
            Assert.Equal(1, insertion.Commit());
        }
        Assert.Equal(1_572_864, cache.Statistics.Bytes);
        Assert.Equal(170, cache.BudgetBytes / cache.BytesPerBlock);
    }
}
