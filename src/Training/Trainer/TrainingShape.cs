using PdServe.Engine.Loading;

namespace PdServe.Training.Trainer;

/// <summary>The architecture the trainer builds: a Llama with grouped-query attention and tied embeddings.</summary>
public sealed record TrainingShape
{
    public int Blocks { get; init; } = 12;
    public int Hidden { get; init; } = 256;
    public int Heads { get; init; } = 8;
    public int KvHeads { get; init; } = 2;
    /// <summary>The SwiGLU width; 0 picks about 8/3 of hidden rounded up to a multiple of 64.</summary>
    public int Intermediate { get; init; }
    public int ContextLength { get; init; } = 512;

    public int IntermediateSize => Intermediate > 0 ? Intermediate : (Hidden * 8 / 3 + 63) / 64 * 64;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible dimension.</summary>
    public void Validate()
    {
        if (Blocks < 1) throw new ArgumentException($"--blocks must be >= 1, got {Blocks}");
        if (Hidden < 8) throw new ArgumentException($"--hidden must be >= 8, got {Hidden}");
        if (Heads < 1 || Hidden % Heads != 0) throw new ArgumentException($"--hidden {Hidden} must be a multiple of --heads {Heads}");
        if (Hidden / Heads % 2 != 0) throw new ArgumentException($"the head dimension {Hidden / Heads} (hidden / heads) must be even for rotary positions");
        if (KvHeads < 1 || Heads % KvHeads != 0) throw new ArgumentException($"--heads {Heads} must be a multiple of --kv-heads {KvHeads}");
        if (Intermediate < 0) throw new ArgumentException($"the intermediate size must be >= 0, got {Intermediate}");
        if (ContextLength < 2) throw new ArgumentException($"--seq must be >= 2, got {ContextLength}");
    }

    public ModelConfig ToModelConfig(int vocabSize, int bosTokenId, int eosTokenId) => new()
    {
        Architecture = "LlamaForCausalLM",
        VocabSize = vocabSize,
        HiddenSize = Hidden,
        IntermediateSize = IntermediateSize,
        NumLayers = Blocks,
        NumHeads = Heads,
        NumKvHeads = KvHeads,
        HeadDim = Hidden / Heads,
        RmsNormEps = 1e-5,
        RopeTheta = 10000.0,
        TieWordEmbeddings = true,
        MaxPositionEmbeddings = ContextLength,
        BosTokenId = bosTokenId,
        EosTokenIds = [eosTokenId],
    };
}
