using PdServe.Engine;
using PdServe.Training.Corpus;
using static TorchSharp.torch;

namespace PdServe.Pruning.Calibration;

/// <summary>
/// Calibration samples: consecutive windows of prompt + continuation tokens from the calibration text (documents
/// encoded as BOS, tokens, EOS), in batches of token ids [b, prompt + continuation]. Owns its tensors.
/// </summary>
public sealed class CalibrationSet : IDisposable
{
    private CalibrationSet(IReadOnlyList<Tensor> batches, CalibrationOptions options, string sha256, int samples)
    {
        Batches = batches;
        Options = options;
        Sha256 = sha256;
        Samples = samples;
    }

    public IReadOnlyList<Tensor> Batches { get; }
    public CalibrationOptions Options { get; }
    public string Sha256 { get; }
    public int Samples { get; }
    public int PromptTokens => Options.PromptTokens;
    public long Tokens => (long)Samples * Options.SampleTokens;

    /// <exception cref="PruningInputException">The text gives no complete sample, or samples exceed the model's context.</exception>
    public static CalibrationSet Build(LoadedModel model, TextDocuments text, CalibrationOptions options)
    {
        if (options.PromptTokens < 1 || options.ContinuationTokens < 2)
            throw new PruningInputException("calibration samples need a prompt of >= 1 token and a continuation of >= 2 tokens");
        if (options.SampleTokens > model.Model.Config.MaxPositionEmbeddings)
            throw new PruningInputException($"calibration samples of {options.SampleTokens} tokens exceed the model's context of {model.Model.Config.MaxPositionEmbeddings}");
        int maxSamples = (int)Math.Max(1, options.MaxTokens / options.SampleTokens);
        var windows = TokenStream.Encode(text.Documents, model).Windows(options.SampleTokens, options.SampleTokens).Take(maxSamples).ToArray();
        if (windows.Length == 0)
            throw new PruningInputException($"calibration file '{text.Path}' has fewer than {options.SampleTokens} tokens, one sample's worth");
        var batches = windows.Chunk(Math.Max(1, options.BatchSize))
            .Select(chunk => tensor(chunk.SelectMany(w => w).Select(t => (long)t).ToArray(), [chunk.Length, options.SampleTokens]).DetachFromDisposeScope())
            .ToArray();
        return new CalibrationSet(batches, options, text.Sha256, windows.Length);
    }

    public void Dispose()
    {
        foreach (Tensor batch in Batches) batch.Dispose();
    }
}
