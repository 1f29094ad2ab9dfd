using PdServe.Training.Trainer;

namespace PdServe.Training.Tests.Trainer;

public sealed class BatchSamplerTests
{
    private static readonly int[] Tokens = Enumerable.Range(0, 1000).ToArray();

    [Fact]
    public void Targets_are_the_inputs_shifted_by_one_token()
    {
        var sampler = new BatchSampler(Tokens, sequenceLength: 16, batchSize: 3, seed: 7);
        (long[] inputs, long[] targets) = sampler.Batch(5);
        Assert.Equal(48, inputs.Length);
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(inputs[i] + 1, targets[i]);
        for (int row = 0; row < 3; row++)
            for (int t = 1; t < 16; t++) Assert.Equal(inputs[row * 16 + t - 1] + 1, inputs[row * 16 + t]);
    }

    [Fact]
    public void A_batch_depends_only_on_seed_and_step()
    {
        var a = new BatchSampler(Tokens, 16, 3, seed: 7);
        var b = new BatchSampler(Tokens, 16, 3, seed: 7);
        _ = b.Batch(40); // a different history must not change later batches
        Assert.Equal(a.Batch(2).Inputs, b.Batch(2).Inputs);
        Assert.NotEqual(a.Batch(2).Inputs, new BatchSampler(Tokens, 16, 3, seed: 8).Batch(2).Inputs);
    }

    [Fact]
    public void One_epoch_visits_every_window_once_without_overlap()
    {
        var sampler = new BatchSampler(Tokens, sequenceLength: 16, batchSize: 1, seed: 3);
        Assert.Equal((1000 - 16) / 17, sampler.WindowsPerEpoch);
        var starts = Enumerable.Range(0, sampler.WindowsPerEpoch).Select(s => sampler.Batch(s).Inputs[0]).ToArray();
        Assert.Equal(starts.Length, starts.Distinct().Count());
        long offset = starts.Min();
        Assert.All(starts, s => Assert.Equal(0, (s - offset) % 17));
    }

    [Fact]
    public void A_corpus_too_short_for_the_sequence_length_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new BatchSampler(new int[20], 16, 1, 0));
        Assert.Contains("needs at least 34", error.Message);
    }
}
