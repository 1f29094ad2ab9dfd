using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

/// <summary>
/// A block whose cache keeps only some prompt positions (as the decode node receives the first F and last L
/// positions of selected layers) must attend over exactly those positions, with new tokens at true positions.
/// </summary>
public class PartialKvCacheTests
{
    [Fact]
    public void Dropping_prompt_positions_equals_attention_over_exactly_the_kept_positions()
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using CausalLm model = TinyModels.Load(config, seed: 13);
        const int promptLength = 10;
        const int decodeSteps = 4;
        int[] sequence = TinyModels.RandomTokens(promptLength + decodeSteps, config.VocabSize, seed: 8);
        int[] keptPrompt = [0, 1, 2, 7, 8, 9]; // first 3 and last 3
        int[] prunedBlocks = [1, 3];

        using var cache = model.CreateCache(maxSlots: 1, maxTokensPerSlot: 64);
        model.Prefill(sequence[..promptLength], cache, slot: 0).Dispose();
        foreach (int block in prunedBlocks) cache.RetainEntries(slot: 0, block, keptPrompt);
        Assert.Equal(keptPrompt.Length, cache.Length(0, 1));
        Assert.Equal(promptLength, cache.Length(0, 0));

        // Reference: the full sequence, where in the pruned blocks the decode positions cannot see dropped prompt keys.
        int total = sequence.Length;
        var mask = new float[total * total];
        for (int query = 0; query < total; query++)
        {
            for (int key = 0; key < total; key++)
            {
                bool visible = key <= query && (query < promptLength || key >= promptLength || keptPrompt.Contains(key));
                mask[query * total + key] = visible ? 0f : float.NegativeInfinity;
            }
        }
        using Tensor prunedMask = tensor(mask, [1, 1, total, total]);
        var blockMasks = prunedBlocks.ToDictionary(b => b, _ => prunedMask);
        using Tensor reference = TinyModels.FullLogits(model, sequence, blockMasks);
        using Tensor unpruned = TinyModels.FullLogits(model, sequence);

        for (int position = promptLength; position < total; position++)
        {
            using Tensor logits = model.DecodeStep([sequence[position]], [position], cache);
            float difference = TinyModels.MaxAbsDifference(logits[0], reference[position]);
            Assert.True(difference < 1e-4f, $"position {position} differs from the masked reference by {difference}");
            // The test means something only if dropping positions changes the result.
            Assert.True(TinyModels.MaxAbsDifference(logits[0], unpruned[position]) > 1e-4f);
        }
        Assert.Equal(keptPrompt.Length + decodeSteps, cache.Length(0, 1));
        Assert.Equal(promptLength + decodeSteps, cache.Length(0, 0));
    }

    [Fact]
    public void Written_block_kv_replaces_the_slot_entries()
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using CausalLm model = TinyModels.Load(config, seed: 13);
        int[] prompt = TinyModels.RandomTokens(8, config.VocabSize, seed: 9);
        using var source = model.CreateCache(1, 32);
        using var target = model.CreateCache(2, 32);
        using Tensor expected = model.Prefill(prompt, source, 0);
        // Move every block's KV as a transfer would, into slot 1 of another cache, then decode there.
        foreach (int block in model.Plan.RunBlocks)
        {
            (Tensor keys, Tensor values) = source.Read(0, block);
            target.Write(1, block, keys, values);
            keys.Dispose();
            values.Dispose();
        }
        target.CopySlot(1, 0);
        using Tensor a = model.DecodeStep([5], [prompt.Length], source);
        using Tensor b = model.DecodeStep([5], [prompt.Length], target);
        Assert.Equal(0f, TinyModels.MaxAbsDifference(a, b));
    }
}
