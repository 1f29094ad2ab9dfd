using PdServe.Engine.FastPath;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Tokenization;

namespace PdServe.Engine;

/// <summary>A model directory loaded for one stage: its files, tokenizer, end-of-sequence ids and weights.</summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelDirectory directory, TextTokenizer tokenizer, CausalLm model)
    {
        Directory = directory;
        Tokenizer = tokenizer;
        Model = model;
        var eos = new HashSet<int>(directory.EosTokenIds);
        if (tokenizer.EosTokenId is { } tokenizerEos) eos.Add(tokenizerEos);
        EosTokenIds = eos;
    }

    public ModelDirectory Directory { get; }
    public TextTokenizer Tokenizer { get; }
    public CausalLm Model { get; }
    /// <summary>generation_config.json's ids (or config.json's), plus the tokenizer's eos_token.</summary>
    public IReadOnlySet<int> EosTokenIds { get; }
    public int? BosTokenId => Directory.BosTokenId ?? Tokenizer.BosTokenId;

    /// <param name="overlayWeights">A safetensors file whose tensors replace the checkpoint's (a healed stage's blocks).</param>
    /// <param name="int8RoundTrip">
    /// Load the projections as the fused decode step's int8 weights hold them (<see cref="Int8RoundTripWeights"/>), so a
    /// torch forward pass scores what <c>--fast-weights int8</c> serves.
    /// </param>
    /// <exception cref="ModelLoadException">The directory, a file or a tensor is missing, corrupt or unsupported.</exception>
    public static LoadedModel Load(string path, ModelLoadOptions options, string? overlayWeights = null, bool int8RoundTrip = false)
    {
        ModelDirectory directory = ModelDirectory.Open(path);
        TextTokenizer tokenizer = TextTokenizer.Load(directory.Path);
        using SafeTensorsCheckpoint weights = directory.OpenWeights();
        using SafeTensorsCheckpoint? overlay = overlayWeights is null ? null : SafeTensorsCheckpoint.OpenFile(overlayWeights);
        IWeightSource source = overlay is null ? weights : new OverlayWeightSource(overlay, weights);
        if (!int8RoundTrip) return new LoadedModel(directory, tokenizer, CausalLm.Load(directory.Config, source, options));
        var int8 = new Int8RoundTripWeights(source, directory.Config);
        return new LoadedModel(directory, tokenizer, CausalLm.Load(int8.Config, int8, options));
    }

    /// <summary>
    /// The prompt's token ids with the tokenizer's special tokens; an empty prompt means BOS alone.
    /// </summary>
    public IReadOnlyList<int> EncodePrompt(string prompt)
    {
        if (prompt.Length > 0) return Tokenizer.Encode(prompt);
        return BosTokenId is { } bos
            ? [bos]
            : throw new ArgumentException("the prompt is empty and the model has no BOS token to start from");
    }

    public void Dispose() => Model.Dispose();
}
