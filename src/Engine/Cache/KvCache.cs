using PdServe.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PdServe.Engine.Cache;

/// <summary>
/// The keys and values of the running sequences, one tensor pair per decoder block the stage runs, laid out
/// [slot, kvHead, position, headDim]. A sequence owns one slot; the engine keeps live sequences in slots
/// 0..B-1 so a decode step attends over a view of the first B slots without gathering.
/// Each (slot, block) has its own length: a block whose prompt KV arrived pruned holds only the kept prompt
/// positions (RoPE already applied at their true positions), and new tokens append after them. Masks built
/// from the per-block lengths make attention see exactly the stored entries.
/// </summary>
public sealed class KvCache : IDisposable
{
    private const int InitialCapacity = 128;

    private readonly Dictionary<int, int> localIndexOfBlock;
    private readonly Tensor[] keys;
    private readonly Tensor[] values;
    private readonly int[][] lengths;
    private readonly int kvHeads;
    private readonly int headDim;

    public KvCache(IReadOnlyList<int> blocks, int kvHeads, int headDim, int maxSlots, int maxTokensPerSlot,
        ScalarType dtype = ScalarType.Float32)
    {
        if (maxSlots < 1) throw new ArgumentOutOfRangeException(nameof(maxSlots));
        if (maxTokensPerSlot < 1) throw new ArgumentOutOfRangeException(nameof(maxTokensPerSlot));
        Blocks = blocks.ToArray();
        localIndexOfBlock = Blocks.Select((block, local) => (block, local)).ToDictionary(p => p.block, p => p.local);
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        MaxSlots = maxSlots;
        MaxTokensPerSlot = maxTokensPerSlot;
        Dtype = dtype;
        Capacity = Math.Min(InitialCapacity, maxTokensPerSlot);
        keys = new Tensor[Blocks.Count];
        values = new Tensor[Blocks.Count];
        lengths = new int[Blocks.Count][];
        for (int i = 0; i < Blocks.Count; i++)
        {
            keys[i] = zeros([maxSlots, kvHeads, Capacity, headDim], dtype).DetachFromDisposeScope();
            values[i] = zeros([maxSlots, kvHeads, Capacity, headDim], dtype).DetachFromDisposeScope();
            lengths[i] = new int[maxSlots];
        }
    }

    public IReadOnlyList<int> Blocks { get; }
    public int MaxSlots { get; }
    public int MaxTokensPerSlot { get; }
    public int Capacity { get; private set; }
    public ScalarType Dtype { get; }

    public int Length(int slot, int block) => lengths[Local(block)][slot];

    /// <summary>Replaces the slot's entries for one block with <paramref name="k"/>/<paramref name="v"/> [kvHeads, T, headDim].</summary>
    public void Write(int slot, int block, Tensor k, Tensor v)
    {
        int local = Local(block);
        int count = (int)k.shape[1];
        EnsureCapacity(count);
        using var scope = NewDisposeScope();
        keys[local][slot].narrow(1, 0, count).copy_(k);
        values[local][slot].narrow(1, 0, count).copy_(v);
        lengths[local][slot] = count;
    }

    /// <summary>
    /// Appends one token's key/value [B, kvHeads, headDim] for slots 0..B-1 of one block, each at its own length.
    /// </summary>
    public void AppendToFirstSlots(int block, Tensor k, Tensor v)
    {
        int local = Local(block);
        int batch = (int)k.shape[0];
        int[] slotLengths = lengths[local];
        var positions = new long[batch];
        for (int b = 0; b < batch; b++) positions[b] = slotLengths[b];
        EnsureCapacity((int)positions.Max() + 1);
        TensorIndex[] index = AppendIndex(positions);
        keys[local].index_put_(k, index);
        values[local].index_put_(v, index);
        for (int b = 0; b < batch; b++) slotLengths[b]++;
    }

    /// <summary>
    /// The (slot, :, position) index of an append. The blocks of one decode step usually append at the same
    /// positions, so the last index is reused while the positions repeat.
    /// </summary>
    private TensorIndex[] AppendIndex(long[] positions)
    {
        if (lastAppendIndex is not null && positions.AsSpan().SequenceEqual(lastAppendPositions)) return lastAppendIndex;
        lastAppendSlots?.Dispose();
        lastAppendPositionTensor?.Dispose();
        lastAppendPositions = positions;
        // The end scalar is held through the call (see HeldScalars).
        using (Scalar end = positions.Length.ToScalar())
            lastAppendSlots = arange(end, ScalarType.Int64).DetachFromDisposeScope();
        lastAppendPositionTensor = tensor(positions).DetachFromDisposeScope();
        lastAppendIndex = [TensorIndex.Tensor(lastAppendSlots), TensorIndex.Colon, TensorIndex.Tensor(lastAppendPositionTensor)];
        return lastAppendIndex;
    }

    private long[] lastAppendPositions = [];
    private Tensor? lastAppendSlots;
    private Tensor? lastAppendPositionTensor;
    private TensorIndex[]? lastAppendIndex;

    /// <summary>
    /// Grows the cache, if needed, so slots 0..B-1 of every block can take one more entry: a decode step that writes
    /// through <see cref="DataPointers"/> calls it first, since growing moves the tensors.
    /// </summary>
    internal void EnsureAppendRoom(int batch)
    {
        int longest = 0;
        foreach (int[] blockLengths in lengths)
        {
            for (int b = 0; b < batch; b++) longest = Math.Max(longest, blockLengths[b]);
        }
        EnsureCapacity(longest + 1);
    }

    /// <summary>
    /// The addresses of one block's float32 keys and values [slots, kvHeads, <see cref="Capacity"/>, headDim]; valid until
    /// the cache grows (re-read them after <see cref="EnsureAppendRoom"/>).
    /// </summary>
    internal unsafe (nint Keys, nint Values) DataPointers(int block)
    {
        if (Dtype != ScalarType.Float32) throw new InvalidOperationException($"direct access needs a float32 cache, this one is {Dtype}");
        int local = Local(block);
        return (TensorAddress.Of(keys[local]), TensorAddress.Of(values[local]));
    }

    /// <summary>Counts one entry more in slots 0..B-1 of a block, after a caller wrote it at each slot's length.</summary>
    internal void CountAppended(int block, int batch)
    {
        int[] blockLengths = lengths[Local(block)];
        for (int b = 0; b < batch; b++) blockLengths[b]++;
    }

    /// <summary>Views of the first <paramref name="batch"/> slots' keys and values up to the longest of them.</summary>
    public (Tensor Keys, Tensor Values, int MaxLength) View(int block, int batch)
    {
        int local = Local(block);
        int maxLength = 0;
        for (int b = 0; b < batch; b++) maxLength = Math.Max(maxLength, lengths[local][b]);
        return (keys[local].narrow(0, 0, batch).narrow(2, 0, maxLength),
                values[local].narrow(0, 0, batch).narrow(2, 0, maxLength), maxLength);
    }

    /// <summary>The lengths of slots 0..B-1 for one block (the attention mask is derived from them).</summary>
    public ReadOnlySpan<int> LengthsOfFirstSlots(int block, int batch) => lengths[Local(block)].AsSpan(0, batch);

    /// <summary>Keeps only the given entry indices (ascending) of one block's entries for a slot, compacting them.</summary>
    public void RetainEntries(int slot, int block, IReadOnlyList<int> keptIndices)
    {
        int local = Local(block);
        int length = lengths[local][slot];
        for (int i = 0; i < keptIndices.Count; i++)
        {
            if (keptIndices[i] < 0 || keptIndices[i] >= length || (i > 0 && keptIndices[i] <= keptIndices[i - 1]))
                throw new ArgumentException($"kept indices must be ascending and within [0, {length})", nameof(keptIndices));
        }
        using var scope = NewDisposeScope();
        Tensor index = tensor(keptIndices.Select(i => (long)i).ToArray());
        Tensor keptKeys = keys[local][slot].index_select(1, index);
        Tensor keptValues = values[local][slot].index_select(1, index);
        keys[local][slot].narrow(1, 0, keptIndices.Count).copy_(keptKeys);
        values[local][slot].narrow(1, 0, keptIndices.Count).copy_(keptValues);
        lengths[local][slot] = keptIndices.Count;
    }

    /// <summary>Copies every block's entries of one slot into another (used to fork n samples and to compact slots).</summary>
    public void CopySlot(int from, int to)
    {
        if (from == to) return;
        using var scope = NewDisposeScope();
        for (int local = 0; local < keys.Length; local++)
        {
            int length = lengths[local][from];
            if (length > 0)
            {
                keys[local][to].narrow(1, 0, length).copy_(keys[local][from].narrow(1, 0, length));
                values[local][to].narrow(1, 0, length).copy_(values[local][from].narrow(1, 0, length));
            }
            lengths[local][to] = length;
        }
    }

    /// <summary>Empties a slot. Its stale entries stay behind, masked out of attention, which is harmless while they are finite.</summary>
    public void Clear(int slot)
    {
        foreach (int[] perSlot in lengths) perSlot[slot] = 0;
    }

    /// <summary>
    /// Empties a slot and zeroes all its storage in every block: for a slot that may hold non-finite values. Masking
    /// does not hide those (a masked NaN still yields 0 · NaN = NaN in attention), so they would poison the slot's
    /// next occupant wherever a batch view reaches past that occupant's length.
    /// </summary>
    public void Scrub(int slot)
    {
        using var scope = NewDisposeScope();
        for (int local = 0; local < keys.Length; local++)
        {
            keys[local][slot].zero_();
            values[local][slot].zero_();
        }
        Clear(slot);
    }

    /// <summary>A copy of one block's entries for a slot: keys and values [kvHeads, length, headDim].</summary>
    public (Tensor Keys, Tensor Values) Read(int slot, int block)
    {
        int local = Local(block);
        int length = lengths[local][slot];
        using var scope = NewDisposeScope();
        return (keys[local][slot].narrow(1, 0, length).clone().MoveToOuterDisposeScope(),
                values[local][slot].narrow(1, 0, length).clone().MoveToOuterDisposeScope());
    }

    private void EnsureCapacity(int tokens)
    {
        if (tokens <= Capacity) return;
        if (tokens > MaxTokensPerSlot)
            throw new InvalidOperationException($"a sequence needs {tokens} KV entries, more than the cache's {MaxTokensPerSlot}");
        int newCapacity = Math.Min(MaxTokensPerSlot, Math.Max(tokens, Capacity * 2));
        for (int local = 0; local < keys.Length; local++)
        {
            keys[local] = Grow(keys[local], newCapacity);
            values[local] = Grow(values[local], newCapacity);
        }
        Capacity = newCapacity;
    }

    private Tensor Grow(Tensor old, int newCapacity)
    {
        Tensor grown = zeros([MaxSlots, kvHeads, newCapacity, headDim], Dtype).DetachFromDisposeScope();
        grown.narrow(2, 0, Capacity).copy_(old);
        old.Dispose();
        return grown;
    }

    private int Local(int block) => localIndexOfBlock.TryGetValue(block, out int local)
        ? local
        : throw new ArgumentException($"block {block} is not run by this stage, so it has no KV cache", nameof(block));

    public void Dispose()
    {
        lastAppendSlots?.Dispose();
        lastAppendPositionTensor?.Dispose();
        foreach (Tensor t in keys) t.Dispose();
        foreach (Tensor t in values) t.Dispose();
    }
}
