namespace PdServe.Training.Trainer;

/// <summary>
/// Deterministic training batches: each epoch cuts the token stream into windows of sequence length + 1 at an
/// epoch-specific offset and visits them in an epoch-specific order. Batch k depends only on (seed, k), so a
/// resumed run sees exactly the batches an uninterrupted one would.
/// </summary>
public sealed class BatchSampler
{
    private readonly int[] tokens;
    private readonly int sequenceLength;
    private readonly int batchSize;
    private readonly int seed;
    private int cachedEpoch = -1;
    private int[] cachedStarts = [];

    public BatchSampler(int[] tokens, int sequenceLength, int batchSize, int seed)
    {
        if (sequenceLength < 1) throw new ArgumentOutOfRangeException(nameof(sequenceLength), "must be >= 1");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "must be >= 1");
        if (tokens.Length < 2 * (sequenceLength + 1))
            throw new ArgumentException($"the corpus has {tokens.Length} tokens; a sequence length of {sequenceLength} needs at least {2 * (sequenceLength + 1)}");
        this.tokens = tokens;
        this.sequenceLength = sequenceLength;
        this.batchSize = batchSize;
        this.seed = seed;
        // One window fewer than fits, so any offset in [0, sequenceLength) still leaves every window whole.
        WindowsPerEpoch = (tokens.Length - sequenceLength) / (sequenceLength + 1);
    }

    public int WindowsPerEpoch { get; }
    public long TokensPerBatch => (long)batchSize * sequenceLength;

    /// <summary>Inputs and next-token targets, each [batch × sequence length] row-major.</summary>
    public (long[] Inputs, long[] Targets) Batch(long step)
    {
        var inputs = new long[batchSize * sequenceLength];
        var targets = new long[batchSize * sequenceLength];
        for (int row = 0; row < batchSize; row++)
        {
            long window = step * batchSize + row;
            int start = WindowStarts((int)(window / WindowsPerEpoch))[(int)(window % WindowsPerEpoch)];
            for (int t = 0; t < sequenceLength; t++)
            {
                inputs[row * sequenceLength + t] = tokens[start + t];
                targets[row * sequenceLength + t] = tokens[start + t + 1];
            }
        }
        return (inputs, targets);
    }

    private int[] WindowStarts(int epoch)
    {
        if (epoch == cachedEpoch) return cachedStarts;
        // Not HashCode.Combine: it is randomized per process, and batches must repeat across runs.
        var random = new Random(unchecked(seed * 1_000_003 + epoch));
        int offset = random.Next(sequenceLength);
        int[] starts = Enumerable.Range(0, WindowsPerEpoch).Select(w => offset + w * (sequenceLength + 1)).ToArray();
        random.Shuffle(starts);
        cachedEpoch = epoch;
        cachedStarts = starts;
        return starts;
    }
}
