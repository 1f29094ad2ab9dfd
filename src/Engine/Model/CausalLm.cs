using PdServe.Engine.Cache;
using PdServe.Engine.Loading;
using PdServe.Engine.Runtime;
using PdServe.Engine.Sampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Names = PdServe.Engine.Loading.LlamaTensorNames;

namespace PdServe.Engine.Model;

/// <summary>
/// A Llama-family decoder-only language model (Llama, Mistral, Qwen2) holding only the blocks its stage runs.
/// Three entry points: <see cref="Forward"/> over whole sequences (training, evaluation, reference checks),
/// <see cref="Prefill"/> of one prompt into a cache slot, and <see cref="DecodeStep"/> for a batch of slots.
/// </summary>
public sealed class CausalLm : nn.Module
{
    private readonly Parameter embedding;
    private readonly ModuleList<DecoderBlock> blocks;
    private readonly RmsNorm finalNorm;
    private readonly Projection? lmHead;
    private readonly RotaryEmbedding rope;

    private CausalLm(ModelConfig config, LayerPlan plan, ModelLoadOptions options, ScalarType decodeDtype, Parameter embedding,
        IEnumerable<DecoderBlock> blocks, RmsNorm finalNorm, Projection? lmHead) : base(nameof(CausalLm))
    {
        Config = config;
        Plan = plan;
        DecodeDtype = decodeDtype;
        PrefillDtype = options.PrefillDtype;
        this.embedding = embedding;
        Blocks = blocks.ToArray();
        this.blocks = new ModuleList<DecoderBlock>(Blocks.ToArray());
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        rope = new RotaryEmbedding(config);
        if (options.TwoThreadDecode ?? get_num_threads() >= 2)
        {
            decodeSplit = new PartnerThread();
            tiedHeadHalves = lmHead is null ? new RowHalves(embedding, null) : null;
        }
        RegisterComponents();
    }

    private readonly PartnerThread? decodeSplit;
    /// <summary>The tied output projection's row halves, for two-thread decode.</summary>
    private readonly RowHalves? tiedHeadHalves;

    public ModelConfig Config { get; }
    public LayerPlan Plan { get; }
    public ScalarType DecodeDtype { get; }
    public ScalarType PrefillDtype { get; }
    public IReadOnlyList<DecoderBlock> Blocks { get; }

    public static CausalLm Load(ModelConfig config, IWeightSource weights, ModelLoadOptions options)
    {
        var plan = new LayerPlan(config.NumLayers, options.SkippedBlocks);
        AllocatorTuning.EnsureApplied();
        using var noGrad = no_grad();
        var progress = new LoadProgress(options.Progress, 3 + plan.RunBlocks.Count);
        ScalarType dtype = options.DecodeDtype
                           ?? (weights.StoredDtype(Names.Embedding) == ScalarType.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32);
        ScalarType? alternate = options.PrefillDtype == dtype ? null : options.PrefillDtype;
        long hidden = config.HiddenSize, headDim = config.HeadDim;
        long qRows = config.NumHeads * headDim, kvRows = config.NumKvHeads * headDim;

        var embedding = new Parameter(weights.Load(Names.Embedding, [config.VocabSize, hidden], dtype), requires_grad: false);
        progress.Advance();

        var loaded = new List<DecoderBlock>();
        foreach (int b in plan.RunBlocks)
        {
            Tensor LoadBlock(string name, params long[] shape) => weights.Load(name, shape, dtype);
            Tensor? Bias(string name, long rows, bool present) => present ? LoadBlock(name, rows) : null;
            RmsNorm Norm(string name) => new(weights.Load(name, [hidden], ScalarType.Float32), config.RmsNormEps);

            Tensor qkvWeight = Fuse(
                LoadBlock(Names.QProj(b), qRows, hidden),
                LoadBlock(Names.KProj(b), kvRows, hidden),
                LoadBlock(Names.VProj(b), kvRows, hidden));
            Tensor? qkvBias = config.AttentionBias
                ? Fuse(LoadBlock(Names.QBias(b), qRows), LoadBlock(Names.KBias(b), kvRows), LoadBlock(Names.VBias(b), kvRows))
                : null;
            var attention = new SelfAttention(
                new Projection(qkvWeight, qkvBias, alternate),
                new Projection(LoadBlock(Names.OProj(b), hidden, qRows),
                    Bias(Names.OBias(b), hidden, config.OutputProjectionBias), alternate),
                config.NumHeads, config.NumKvHeads, config.HeadDim);

            long inter = config.IntermediateSize;
            Tensor gateUpWeight = Fuse(LoadBlock(Names.GateProj(b), inter, hidden), LoadBlock(Names.UpProj(b), inter, hidden));
            Tensor? gateUpBias = config.MlpBias
                ? Fuse(LoadBlock(Names.GateBias(b), inter), LoadBlock(Names.UpBias(b), inter))
                : null;
            var mlp = new GatedMlp(
                new Projection(gateUpWeight, gateUpBias, alternate),
                new Projection(LoadBlock(Names.DownProj(b), hidden, inter),
                    Bias(Names.DownBias(b), hidden, config.MlpBias), alternate));

            loaded.Add(new DecoderBlock(b, Norm(Names.InputNorm(b)), attention, Norm(Names.PostAttentionNorm(b)), mlp));
            progress.Advance();
        }

        var finalNorm = new RmsNorm(weights.Load(Names.FinalNorm, [hidden], ScalarType.Float32), config.RmsNormEps);
        progress.Advance();
        Projection? lmHead = config.TieWordEmbeddings
            ? null
            : new Projection(weights.Load(Names.LmHead, [config.VocabSize, hidden], dtype), null, null);
        progress.Advance();
        return new CausalLm(config, plan, options, dtype, embedding, loaded, finalNorm, lmHead);
    }

    /// <summary>Concatenates parts loaded separately (q, k, v; gate, up) into one matrix and frees the parts at once.</summary>
    private static Tensor Fuse(params Tensor[] parts)
    {
        Tensor fused = cat(parts, 0);
        foreach (Tensor part in parts) part.Dispose();
        return fused;
    }

    /// <summary>
    /// The weights under their Hugging Face names, as views of the live parameters (fused q/k/v and gate/up are
    /// split back by rows), so a saved checkpoint loads into this same class. Only a model holding every block can
    /// be exported. The caller disposes the views.
    /// </summary>
    public Dictionary<string, Tensor> ExportWeights()
    {
        if (Plan.SkippedBlocks.Count > 0) throw new InvalidOperationException("a stage-pruned model cannot be exported as a checkpoint");
        Dictionary<string, Tensor> weights = ExportBlockWeights();
        weights[Names.Embedding] = embedding.detach();
        weights[Names.FinalNorm] = finalNorm.Weight.detach();
        if (lmHead is not null) weights[Names.LmHead] = lmHead.Weight.detach();
        return weights;
    }

    /// <summary>
    /// The weights of the blocks this model holds (a stage's kept blocks), under their Hugging Face names: what a
    /// healed stage file carries over the base checkpoint.
    /// </summary>
    public Dictionary<string, Tensor> ExportBlockWeights()
    {
        long qRows = Config.NumHeads * Config.HeadDim, kvRows = Config.NumKvHeads * Config.HeadDim, inter = Config.IntermediateSize;
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DecoderBlock block in Blocks)
        {
            int b = block.Index;
            weights[Names.InputNorm(b)] = block.InputNorm.Weight.detach();
            weights[Names.PostAttentionNorm(b)] = block.PostAttentionNorm.Weight.detach();
            AddRows(weights, block.Attention.Qkv, (Names.QProj(b), Names.QBias(b), qRows), (Names.KProj(b), Names.KBias(b), kvRows),
                (Names.VProj(b), Names.VBias(b), kvRows));
            AddRows(weights, block.Attention.Output, (Names.OProj(b), Names.OBias(b), Config.HiddenSize));
            AddRows(weights, block.Mlp.GateUp, (Names.GateProj(b), Names.GateBias(b), inter), (Names.UpProj(b), Names.UpBias(b), inter));
            AddRows(weights, block.Mlp.Down, (Names.DownProj(b), Names.DownBias(b), Config.HiddenSize));
        }
        return weights;
    }

    private static void AddRows(Dictionary<string, Tensor> weights, Projection projection,
        params (string Weight, string Bias, long Rows)[] parts)
    {
        long start = 0;
        foreach (var (weightName, biasName, rows) in parts)
        {
            weights[weightName] = projection.Weight.detach().narrow(0, start, rows);
            if (projection.Bias is { } bias) weights[biasName] = bias.detach().narrow(0, start, rows);
            start += rows;
        }
    }

    /// <summary>A cache for this stage's blocks.</summary>
    public KvCache CreateCache(int maxSlots, int maxTokensPerSlot) =>
        new(Plan.RunBlocks, Config.NumKvHeads, Config.HeadDim, maxSlots, maxTokensPerSlot);

    /// <summary>
    /// A prefix cache for this stage's blocks. Its blocks are a multiple of <see cref="CausalChunkedMask.ChunkLength"/>
    /// tokens, so a prefill after cached blocks starts its query chunks where a cold prefill's start.
    /// </summary>
    /// <param name="fingerprint">What the KV depends on besides the tokens: weights, plan, prefill dtype.</param>
    public PrefixBlockCache CreatePrefixCache(string fingerprint, long budgetBytes, int blockTokens = PrefixBlockCache.DefaultBlockTokens)
    {
        if (blockTokens <= 0 || blockTokens % CausalChunkedMask.ChunkLength != 0)
            throw new ArgumentException($"a prefix block holds a positive multiple of {CausalChunkedMask.ChunkLength} tokens, got {blockTokens}", nameof(blockTokens));
        return new PrefixBlockCache(fingerprint, Plan.RunBlocks, Config.NumKvHeads, Config.HeadDim, budgetBytes, blockTokens);
    }

    /// <summary>Positions start, start+1, …, start+count−1 (int64), with the range's scalars held through the call (see <see cref="HeldScalars"/>).</summary>
    private static Tensor Positions(long start, long count)
    {
        using Scalar from = start.ToScalar(), to = (start + count).ToScalar();
        return arange(from, to, ScalarType.Int64);
    }

    /// <summary>
    /// Logits [B, T, vocab] (fp32) for whole sequences [B, T] starting at position 0, without a cache.
    /// <paramref name="blockMasks"/> optionally replaces the causal mask of some blocks with an additive mask
    /// [B|1, 1, T, T] (still causal: no query may see a later key). Gradients flow when the parameters require them: the trainer uses this same code.
    /// </summary>
    /// <param name="residualDropout">Training only (0 = none): dropout on each sublayer's output, a regularizer for small corpora.</param>
    public Tensor Forward(Tensor inputIds, ScalarType? computeDtype = null, IReadOnlyDictionary<int, Tensor>? blockMasks = null,
        double residualDropout = 0)
    {
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], time = inputIds.shape[1];
        Tensor positions = Positions(0, time).unsqueeze(0).expand(batch, time);
        ScalarType dtype = computeDtype ?? DecodeDtype;
        Tensor hidden = Embed(inputIds);
        using var causal = CausalChunkedMask.Causal((int)time, Config.QueryGroupSize);
        foreach (DecoderBlock block in blocks)
        {
            using CausalChunkedMask? custom = blockMasks is not null && blockMasks.TryGetValue(block.Index, out Tensor? m)
                ? new CausalChunkedMask(m, Config.QueryGroupSize)
                : null;
            hidden = block.ForwardSequence(hidden, positions, (int)time - 1, rope, dtype, custom ?? causal, out _, out _, residualDropout);
        }
        return Logits(finalNorm.forward(hidden)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A teacher-forced pass over positions [start, start + T) of sequences [B, T] through this model's blocks less
    /// <see cref="SequencePass.SkippedBlocks"/>. Each block attends over its <see cref="SequencePass.PrefixKv"/>
    /// entries and causally over the new positions, so one pass computes what <see cref="Prefill"/> followed by one
    /// <see cref="DecodeStep"/> per token computes — with the prompt KV of another stage, pruned or not. Attention
    /// runs explicitly in fp32. Returns fp32 logits [B, T, vocab]. No gradients.
    /// </summary>
    public Tensor ForwardPass(Tensor inputIds, SequencePass pass)
    {
        ArgumentNullException.ThrowIfNull(pass);
        using IDisposable? noGrad = pass.TrackGradients ? null : no_grad();
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], time = inputIds.shape[1];
        int start = pass.StartPosition;
        Tensor positions = Positions(start, time).unsqueeze(0).expand(batch, time);
        Tensor hidden = Embed(inputIds);
        var masks = new Dictionary<long, Tensor>();
        foreach (DecoderBlock block in blocks)
        {
            if (pass.SkippedBlocks.Contains(block.Index)) continue;
            BlockKv? prefix = null;
            if (pass.PrefixKv is not null && !pass.PrefixKv.TryGetValue(block.Index, out prefix))
                throw new ArgumentException($"block {block.Index} runs but the pass has no prefix KV for it", nameof(pass));
            long prefixLength = prefix?.Keys.shape[2] ?? 0;
            if (!masks.TryGetValue(prefixLength, out Tensor? mask))
            {
                // Every prefix entry is visible; the new positions are causal among themselves.
                Tensor causal = full(time, time, HeldScalars.NegativeInfinity).triu_(1);
                mask = cat([zeros(time, prefixLength), causal], 1).view(1, 1, time, prefixLength + time);
                masks[prefixLength] = mask;
            }
            using var blockScope = NewDisposeScope();
            Tensor output = block.ForwardAfterPrefix(hidden, positions, start + (int)time - 1, rope, pass.ComputeDtype, prefix, mask,
                pass.RecordAttention, out Tensor keys, out Tensor values, out Tensor? weights);
            pass.OnBlock?.Invoke(new BlockActivity(block.Index, hidden, output, keys, values, weights));
            hidden = output.MoveToOuterDisposeScope();
        }
        return Logits(finalNorm.forward(hidden)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs a prompt (positions 0..T-1) through the stage's blocks in the prefill dtype, writing each block's
    /// keys and values into <paramref name="slot"/> of <paramref name="cache"/> (when given) and handing them to
    /// <paramref name="onBlockKv"/> as soon as the block finishes, so a transfer can overlap the remaining blocks.
    /// Returns the fp32 logits [vocab] for the token after the prompt. <paramref name="computeDtype"/> overrides
    /// the prefill dtype (to compare against fp32, for example). With <paramref name="scoring"/>, the logits of every
    /// prompt position are computed as well (in chunks) and the prompt's own tokens scored under them.
    /// With <paramref name="cachedPrefix"/>, positions [0, P) take their KV from it and only [P, T) are computed,
    /// attending over the prefix and causally among themselves in the same query chunks as a cold prefill (P is a
    /// multiple of <see cref="CausalChunkedMask.ChunkLength"/>); the cache and <paramref name="onBlockKv"/> still get
    /// every position's KV. Scoring needs every position's hidden state, so it cannot start from a prefix.
    /// </summary>
    public Tensor Prefill(IReadOnlyList<int> tokens, KvCache? cache, int slot, Action<int, Tensor, Tensor>? onBlockKv = null,
        ScalarType? computeDtype = null, PromptScoring? scoring = null, PrefixHit? cachedPrefix = null)
    {
        if (tokens.Count == 0) throw new ArgumentException("a prompt needs at least one token", nameof(tokens));
        int start = cachedPrefix?.Tokens ?? 0;
        if (start > 0)
        {
            if (start >= tokens.Count) throw new ArgumentException("the last prompt token must be computed, not taken from a cached prefix", nameof(cachedPrefix));
            if (start % CausalChunkedMask.ChunkLength != 0)
                throw new ArgumentException($"a cached prefix must end on a multiple of {CausalChunkedMask.ChunkLength} tokens", nameof(cachedPrefix));
            if (scoring is not null) throw new ArgumentException("scoring a prompt needs every position computed", nameof(scoring));
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int computed = tokens.Count - start;
        Tensor ids = tensor(tokens.Skip(start).Select(t => (long)t).ToArray()).unsqueeze(0);
        Tensor positions = Positions(start, computed).unsqueeze(0);
        Tensor hidden = Embed(ids);
        using var causal = CausalChunkedMask.CausalAfter(start, computed, Config.QueryGroupSize);
        foreach (DecoderBlock block in blocks)
        {
            hidden = block.ForwardSequence(hidden, positions, tokens.Count - 1, rope, computeDtype ?? PrefillDtype, causal,
                out Tensor keys, out Tensor values, prefix: start > 0 ? cachedPrefix!.Segments(block.Index) : null);
            cache?.Write(slot, block.Index, keys[0], values[0]);
            onBlockKv?.Invoke(block.Index, keys[0], values[0]);
        }
        if (scoring is not null) ScorePrompt(hidden, tokens, scoring);
        Tensor last = hidden.narrow(1, computed - 1, 1);
        return Logits(finalNorm.forward(last)).reshape(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decode step for the sequences in cache slots 0..B-1: feeds each its last token at its true position,
    /// appends the new keys/values and returns fp32 logits [B, vocab].
    /// </summary>
    public Tensor DecodeStep(IReadOnlyList<int> tokens, IReadOnlyList<int> positions, KvCache cache)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // With a partner thread, each of the two threads runs torch single-threaded for the step.
        int threads = get_num_threads();
        if (decodeSplit is not null) set_num_threads(1);
        try
        {
            return DecodeBlocks(tokens, positions, cache).MoveToOuterDisposeScope();
        }
        finally
        {
            if (decodeSplit is not null) set_num_threads(threads);
        }
    }

    private Tensor DecodeBlocks(IReadOnlyList<int> tokens, IReadOnlyList<int> positions, KvCache cache)
    {
        int batch = tokens.Count;
        // Decode keeps activations 2-D [B, hidden]: a 2-D linear goes straight to the GEMV kernel.
        Tensor ids = tensor(tokens.Select(t => (long)t).ToArray());
        Tensor rotation = rope.DecodeRotation(tensor(positions.Select(p => (long)p).ToArray()), positions.Max());
        Tensor hidden = embedding.index_select(0, ids).to(ScalarType.Float32);
        var masks = new DecodeMaskBuilder(batch);
        foreach (DecoderBlock block in blocks)
        {
            Tensor mask = masks.ForLengthsAfterAppend(cache.LengthsOfFirstSlots(block.Index, batch));
            hidden = block.ForwardDecode(hidden, rotation, DecodeDtype, cache, mask, decodeSplit);
        }
        return Logits(finalNorm.forward(hidden), decodeSplit).reshape(batch, -1);
    }

    /// <summary>Position p's logits score prompt token p + 1; the last position's predict the first generated token.</summary>
    private void ScorePrompt(Tensor hidden, IReadOnlyList<int> tokens, PromptScoring scoring)
    {
        for (int start = 0; start < tokens.Count - 1; start += scoring.RowsPerChunk)
        {
            using var scope = NewDisposeScope();
            int rows = Math.Min(scoring.RowsPerChunk, tokens.Count - 1 - start);
            Tensor logits = Logits(finalNorm.forward(hidden.narrow(1, start, rows))).reshape(rows, -1);
            scoring.Add(logits, tokens.Skip(start + 1).Take(rows).ToArray());
        }
    }

    // What a decode kernel outside torch reads the weights from (FastPath).
    internal Tensor EmbeddingWeight => embedding;
    internal RmsNorm FinalNorm => finalNorm;
    internal Projection? LmHead => lmHead;
    internal RotaryEmbedding Rope => rope;

    private Tensor Embed(Tensor ids) =>
        embedding.index_select(0, ids.reshape(-1)).view(ids.shape[0], ids.shape[1], -1).to(ScalarType.Float32);

    private Tensor Logits(Tensor normed, PartnerThread? split = null)
    {
        Tensor input = normed.to(DecodeDtype);
        if (lmHead is not null) return lmHead.Forward(input, split).to(ScalarType.Float32);
        Tensor logits = split is null || tiedHeadHalves is null
            ? nn.functional.linear(input, embedding)
            : tiedHeadHalves.LinearWhole(input, split);
        return logits.to(ScalarType.Float32);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rope.Dispose();
            tiedHeadHalves?.Dispose();
            decodeSplit?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Reports loading progress per block, the unit that dominates load time.</summary>
    private sealed class LoadProgress(IProgress<double>? sink, int steps)
    {
        private int done;
        public void Advance() => sink?.Report(Math.Min(1.0, ++done / (double)steps));
    }
}
