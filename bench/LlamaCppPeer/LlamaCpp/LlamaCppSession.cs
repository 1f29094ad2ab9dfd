using LLama;
using LLama.Common;
using LLama.Native;

namespace LlamaCppPeer.LlamaCpp;

/// <summary>
/// A GGUF loaded by llama.cpp through LLamaSharp with one context: prompts and decode steps go in as token ids, one
/// llama_batch per call, and logits come back per batch row.
/// </summary>
public sealed class LlamaCppSession : IDisposable
{
    /// <summary>llama.cpp pads a context to a multiple of this many KV cells.</summary>
    private const int ContextPage = 256;

    private readonly LLamaWeights weights;
    private readonly LLamaContext context;
    private readonly LLamaBatch batch = new();

    private LlamaCppSession(LLamaWeights weights, LLamaContext context, int vocabSize)
    {
        this.weights = weights;
        this.context = context;
        VocabSize = vocabSize;
    }

    public int VocabSize { get; }

    public static LlamaCppSession Load(string ggufPath, LlamaCppSettings settings)
    {
        var parameters = new ModelParams(ggufPath)
        {
            GpuLayerCount = 0,
            // Read into memory rather than mapped, so no step pays a page fault on weights it touches first.
            LoadMode = LLamaLoadMode.None,
            Threads = settings.Threads,
            BatchThreads = settings.Threads,
            SeqMax = (uint)settings.Sequences,
            // One KV stream per sequence: attention reads only its own sequence's cells (llama.cpp's faster
            // setting when sequences share no prefix, as here).
            KVUnified = false,
            // With separate streams llama.cpp splits the context evenly between the sequences, after padding it
            // to whole 256-cell pages and rounding down to a multiple of the sequence count; whole pages per
            // sequence keep that rounding from taking cells a sequence needs.
            ContextSize = (uint)(RoundUp(settings.TokensPerSequence, ContextPage) * settings.Sequences),
            BatchSize = (uint)settings.BatchTokens,
            // Set either way: left unset, llama.cpp decides by itself ("auto").
            FlashAttention = settings.FlashAttention,
            TypeK = settings.KvCacheType,
            TypeV = settings.KvCacheType,
        };
        LLamaWeights weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            LLamaContext context = weights.CreateContext(parameters);
            return new LlamaCppSession(weights, context, weights.Vocab.Count);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Forgets every sequence's KV.</summary>
    public void Clear() => context.NativeHandle.MemoryClear(data: false);

    /// <summary>
    /// Feeds <paramref name="tokens"/> at positions 0.. of <paramref name="sequence"/> in one batch; only the last
    /// position's logits are computed (what a prefill needs).
    /// </summary>
    public void Prefill(IReadOnlyList<int> tokens, int sequence)
    {
        batch.Clear();
        for (int i = 0; i < tokens.Count; i++)
            batch.Add(tokens[i], i, (LLamaSeqId)sequence, logits: i == tokens.Count - 1);
        Decode();
    }

    /// <summary>One decode step: token i goes to sequence i at <paramref name="positions"/>[i], all in one batch.</summary>
    public void Step(IReadOnlyList<int> tokens, IReadOnlyList<int> positions)
    {
        batch.Clear();
        for (int i = 0; i < tokens.Count; i++)
            batch.Add(tokens[i], positions[i], (LLamaSeqId)i, logits: true);
        Decode();
    }

    /// <summary>The logits of row <paramref name="batchRow"/> of the last batch (−1: its last row).</summary>
    public float[] Logits(int batchRow) => context.NativeHandle.GetLogitsIth(batchRow).ToArray();

    private void Decode()
    {
        DecodeResult result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {result}");
        // The CPU backend may return before the graph is done; a timing must include the whole step.
        context.NativeHandle.Synchronize();
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    public void Dispose()
    {
        context.Dispose();
        weights.Dispose();
    }
}
