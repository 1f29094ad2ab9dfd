using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

public class BatchedDecodeTests
{
    [Fact]
    public void Batched_decode_of_different_lengths_matches_each_sequence_alone()
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using CausalLm model = TinyModels.Load(config);
        int[] promptLengths = [3, 11, 6];
        const int steps = 4;
        int[][] sequences = promptLengths
            .Select((length, i) => TinyModels.RandomTokens(length + steps, config.VocabSize, seed: 100 + i))
            .ToArray();

        using var cache = model.CreateCache(maxSlots: 4, maxTokensPerSlot: 64);
        for (int s = 0; s < sequences.Length; s++) model.Prefill(sequences[s][..promptLengths[s]], cache, slot: s).Dispose();

        var references = sequences.Select(seq => TinyModels.FullLogits(model, seq)).ToArray();
        for (int step = 0; step < steps; step++)
        {
            int[] positions = promptLengths.Select(length => length + step).ToArray();
            int[] tokens = sequences.Select((seq, s) => seq[positions[s]]).ToArray();
            using Tensor logits = model.DecodeStep(tokens, positions, cache);
            for (int s = 0; s < sequences.Length; s++)
            {
                float difference = TinyModels.MaxAbsDifference(logits[s], references[s][positions[s]]);
                Assert.True(difference < 1e-4f, $"sequence {s} step {step} differs by {difference}");
            }
        }
        foreach (Tensor reference in references) reference.Dispose();
    }
}
