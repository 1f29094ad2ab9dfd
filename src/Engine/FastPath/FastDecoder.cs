using PdServe.Engine.Cache;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.FastPath;

/// <summary>
/// One decode step of a <see cref="CausalLm"/> without torch: the stage's weights packed once (q, k and v as one
/// matrix, gate and up as one), then per step the embedding rows, per block RMSNorm → qkv → RoPE → append to the
/// engine's <see cref="KvCache"/> (in place, so its per-block lengths and subset-of-positions semantics hold) →
/// grouped-query attention over each slot's entries → output projection and residual → RMSNorm → SwiGLU MLP and
/// residual, and the LM head into fp32 logits [B, vocab] the engine's sampler reads as it reads torch's. Matrix products
/// and attention split across a persistent <see cref="WorkerPool"/>; every buffer is allocated once for the largest batch.
/// </summary>
public sealed unsafe class FastDecoder : IDisposable
{
    private readonly CausalLm model;
    private readonly KernelIsa isa;
    private readonly WorkerPool pool;
    private readonly PackedBlock[] blocks;
    private readonly float[] finalNorm;
    private readonly PackedWeights head;
    private readonly RopeTable rope;
    private readonly AttentionShape shape;
    private readonly int hidden, qRows, kvRows, intermediate, vocab, maxBatch;
    private readonly float epsilon;
    private readonly MatrixMultiplyWork product = new();
    private readonly AttentionWork attention = new();
    // Activations of the largest batch, reused by every step.
    private readonly float[] x, normed, qkv, queries, attended, projected, gateUp, activated;
    private readonly int[] lengths;

    /// <param name="format">How the projections are held: the model's own dtype (F32 or Bf16), or Int8 quantized from it.</param>
    public FastDecoder(CausalLm model, int maxBatch, int workers, WeightFormat? format = null, KernelIsa? isa = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.model = model;
        this.maxBatch = maxBatch;
        this.isa = isa ?? KernelCapabilities.Best;
        ModelConfig config = model.Config;
        hidden = config.HiddenSize;
        shape = new AttentionShape(config.NumHeads, config.NumKvHeads, config.HeadDim);
        qRows = config.NumHeads * config.HeadDim;
        kvRows = config.NumKvHeads * config.HeadDim;
        intermediate = config.IntermediateSize;
        vocab = config.VocabSize;
        epsilon = (float)config.RmsNormEps;
        WeightFormat chosen = format ?? (model.DecodeDtype == ScalarType.BFloat16 ? WeightFormat.Bf16 : WeightFormat.F32);
        blocks = model.Blocks.Select(block => new PackedBlock(block, chosen)).ToArray();
        finalNorm = Floats(model.FinalNorm.Weight);
        head = Pack(model.LmHead?.Weight ?? model.EmbeddingWeight, null, chosen);
        rope = new RopeTable(RotaryEmbedding.ComputeInverseFrequencies(config), Math.Min(1024, config.MaxPositionEmbeddings));
        x = new float[maxBatch * hidden];
        normed = new float[maxBatch * hidden];
        qkv = new float[maxBatch * (qRows + 2 * kvRows)];
        queries = new float[maxBatch * qRows];
        attended = new float[maxBatch * qRows];
        projected = new float[maxBatch * hidden];
        gateUp = new float[maxBatch * 2 * intermediate];
        activated = new float[maxBatch * intermediate];
        lengths = new int[maxBatch];
        pool = new WorkerPool(Math.Max(1, workers));
        product.Isa = this.isa;
        attention.Isa = this.isa;
    }

    public WeightFormat Format => blocks.Length > 0 ? blocks[0].Qkv.Format : head.Format;
    public KernelIsa Isa => isa;
    public long WeightBytes => blocks.Sum(b => b.Bytes) + head.SizeInBytes;

    /// <summary>
    /// Token b at position b of slot b, for slots 0..B-1 of <paramref name="cache"/>: appends every run block's key and
    /// value to the slot and returns fp32 logits [B, vocab] (what <see cref="CausalLm.DecodeStep"/> returns).
    /// </summary>
    public Tensor Step(IReadOnlyList<int> tokens, IReadOnlyList<int> positions, KvCache cache)
    {
        int batch = tokens.Count;
        if (batch < 1 || batch > maxBatch) throw new ArgumentOutOfRangeException(nameof(tokens), $"a step takes 1..{maxBatch} sequences, got {batch}");
        if (positions.Count != batch) throw new ArgumentException("one position per token", nameof(positions));
        rope.EnsurePositions(positions.Max() + 1);
        cache.EnsureAppendRoom(batch);
        Embed(tokens);
        fixed (float* px = x, pn = normed, pqkv = qkv, pq = queries, pa = attended, pp = projected, pg = gateUp, pact = activated)
        fixed (int* pl = lengths)
        {
            foreach (PackedBlock block in blocks)
            {
                RmsNorms(px, block.InputNorm, pn, batch);
                Multiply(block.Qkv, pn, batch, pqkv);
                RotateAndAppend(block.Index, pqkv, pq, positions, cache, batch);
                for (int b = 0; b < batch; b++) pl[b] = cache.Length(b, block.Index);
                (nint keys, nint values) = cache.DataPointers(block.Index);
                attention.Set(shape, pq, (float*)keys, (float*)values, cache.Capacity, pl, batch, pa);
                pool.Run(attention, AttentionKernel.Items(shape, batch));
                Multiply(block.Output, pa, batch, pp);
                Add(px, pp, batch * hidden);
                RmsNorms(px, block.PostNorm, pn, batch);
                Multiply(block.GateUp, pn, batch, pg);
                for (int b = 0; b < batch; b++)
                {
                    var row = new ReadOnlySpan<float>(pg + (nint)b * 2 * intermediate, 2 * intermediate);
                    VectorKernels.SwiGlu(isa, row[..intermediate], row[intermediate..], new Span<float>(pact + (nint)b * intermediate, intermediate));
                }
                Multiply(block.Down, pact, batch, pp);
                Add(px, pp, batch * hidden);
            }
            RmsNorms(px, finalNorm, pn, batch);
            // The LM head writes straight into the tensor the sampler reads: no staging buffer, no copy.
            Tensor logits = empty([batch, vocab], ScalarType.Float32);
            Multiply(head, pn, batch, (float*)TensorAddress.Of(logits));
            return logits;
        }
    }

    private void Embed(IReadOnlyList<int> tokens)
    {
        Tensor table = model.EmbeddingWeight;
        for (int b = 0; b < tokens.Count; b++)
        {
            int token = tokens[b];
            if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {token} is outside the vocabulary [0, {vocab})");
            Span<float> row = x.AsSpan(b * hidden, hidden);
            if (table.dtype == ScalarType.BFloat16)
            {
                var source = new ReadOnlySpan<ushort>((ushort*)TensorAddress.Of(table) + (nint)token * hidden, hidden);
                for (int i = 0; i < hidden; i++) row[i] = Bf16Bits.ToSingle(source[i]);
            }
            else
            {
                new ReadOnlySpan<float>((float*)TensorAddress.Of(table) + (nint)token * hidden, hidden).CopyTo(row);
            }
        }
    }

    private void RmsNorms(float* input, float[] weight, float* output, int batch)
    {
        for (int b = 0; b < batch; b++)
            VectorKernels.RmsNorm(isa, new ReadOnlySpan<float>(input + (nint)b * hidden, hidden), weight, epsilon, new Span<float>(output + (nint)b * hidden, hidden));
    }

    private void Multiply(PackedWeights weights, float* input, int batch, float* output)
    {
        product.Set(weights, input, batch, output);
        product.RunOn(pool);
    }

    private void Add(float* accumulator, float* addend, int count) =>
        VectorKernels.Add(isa, new Span<float>(accumulator, count), new ReadOnlySpan<float>(addend, count));

    /// <summary>RoPE on each row's queries (copied dense for the attention kernel) and keys, then the keys and values into the cache.</summary>
    private void RotateAndAppend(int block, float* qkvRows, float* denseQueries, IReadOnlyList<int> positions, KvCache cache, int batch)
    {
        int stride = qRows + 2 * kvRows, headDim = shape.HeadDim, capacity = cache.Capacity;
        (nint keys, nint values) = cache.DataPointers(block);
        for (int b = 0; b < batch; b++)
        {
            float* row = qkvRows + (nint)b * stride;
            ReadOnlySpan<float> cos = rope.Cos(positions[b]), sin = rope.Sin(positions[b]);
            VectorKernels.Rope(isa, new Span<float>(row, qRows), headDim, cos, sin);
            VectorKernels.Rope(isa, new Span<float>(row + qRows, kvRows), headDim, cos, sin);
            new ReadOnlySpan<float>(row, qRows).CopyTo(new Span<float>(denseQueries + (nint)b * qRows, qRows));
            int at = cache.Length(b, block);
            for (int h = 0; h < shape.KvHeads; h++)
            {
                nint offset = (((nint)b * shape.KvHeads + h) * capacity + at) * headDim;
                new ReadOnlySpan<float>(row + qRows + (nint)h * headDim, headDim).CopyTo(new Span<float>((float*)keys + offset, headDim));
                new ReadOnlySpan<float>(row + qRows + kvRows + (nint)h * headDim, headDim).CopyTo(new Span<float>((float*)values + offset, headDim));
            }
        }
        cache.CountAppended(block, batch);
    }

    private static float[] Floats(Tensor t)
    {
        using Tensor f = t.to(ScalarType.Float32).contiguous();
        return f.data<float>().ToArray();
    }

    private static PackedWeights Pack(Tensor weight, Tensor? bias, WeightFormat format)
    {
        using Tensor contiguous = weight.contiguous();
        int rows = (int)weight.shape[0], columns = (int)weight.shape[1];
        float[] biasValues = bias is null ? [] : Floats(bias);
        if (contiguous.dtype == ScalarType.BFloat16)
            return PackedWeights.FromBFloat16(new ReadOnlySpan<ushort>((void*)TensorAddress.Of(contiguous), rows * columns), rows, columns, format, bias: biasValues);
        using Tensor f32 = contiguous.to(ScalarType.Float32);
        return PackedWeights.FromFloat32(new ReadOnlySpan<float>((void*)TensorAddress.Of(f32), rows * columns), rows, columns, format, bias: biasValues);
    }

    public void Dispose()
    {
        pool.Dispose();
        foreach (PackedBlock block in blocks) block.Dispose();
        head.Dispose();
    }

    /// <summary>One block's weights as the kernels read them.</summary>
    private sealed class PackedBlock : IDisposable
    {
        public PackedBlock(DecoderBlock block, WeightFormat format)
        {
            Index = block.Index;
            InputNorm = Floats(block.InputNorm.Weight);
            PostNorm = Floats(block.PostAttentionNorm.Weight);
            Qkv = Pack(block.Attention.Qkv.Weight, block.Attention.Qkv.Bias, format);
            Output = Pack(block.Attention.Output.Weight, block.Attention.Output.Bias, format);
            GateUp = Pack(block.Mlp.GateUp.Weight, block.Mlp.GateUp.Bias, format);
            Down = Pack(block.Mlp.Down.Weight, block.Mlp.Down.Bias, format);
        }

        public int Index { get; }
        public float[] InputNorm { get; }
        public float[] PostNorm { get; }
        public PackedWeights Qkv { get; }
        public PackedWeights Output { get; }
        public PackedWeights GateUp { get; }
        public PackedWeights Down { get; }
        public long Bytes => Qkv.SizeInBytes + Output.SizeInBytes + GateUp.SizeInBytes + Down.SizeInBytes;

        public void Dispose()
        {
            Qkv.Dispose();
            Output.Dispose();
            GateUp.Dispose();
            Down.Dispose();
        }
    }

    /// <summary>The attention of one step as pool work: items are (sequence, KV head) pairs.</summary>
    private sealed class AttentionWork : IPoolWork
    {
        private AttentionShape shape;
        private float* queries, keys, values, output;
        private int* lengths;
        private int capacity, batch;

        public KernelIsa Isa { get; set; }

        public void Set(AttentionShape shape, float* queries, float* keys, float* values, int capacity, int* lengths, int batch, float* output)
        {
            this.shape = shape;
            this.queries = queries;
            this.keys = keys;
            this.values = values;
            this.capacity = capacity;
            this.lengths = lengths;
            this.batch = batch;
            this.output = output;
        }

        public void Execute(int worker, int start, int end) =>
            AttentionKernel.Attend(Isa, shape, queries, keys, values, capacity, lengths, batch, output, start, end);
    }
}
