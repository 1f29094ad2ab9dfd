using PdServe.Engine;
using PdServe.Engine.Loading;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Search;
using PdServe.TestSupport;
using PdServe.Training.Corpus;

namespace PdServe.Pruning.Tests.Search;

/// <summary>A tiny model with a tokenizer and calibration text, and small search settings that keep tests fast.</summary>
public sealed class SearchFixture : IDisposable
{
    public const string CalibrationText =
        "in the beginning god created the heaven and the earth\n\nand the earth was without form and void and darkness was upon the face of the deep\n\n" +
        "and the spirit of god moved upon the face of the waters\n\nand god said let there be light and there was light\n\n" +
        "and god saw the light that it was good and god divided the light from the darkness\n\nand god called the light day and the darkness he called night";

    private readonly TempDirectory directory = new();

    public SearchFixture(int numLayers = 5, int seed = 17, IReadOnlyCollection<int>? identityBlocks = null)
    {
        ModelConfig config = TinyTokenizer.ConfigFor(TinyCheckpoint.DefaultConfig(numLayers: numLayers));
        TinyCheckpoint.Write(directory.Path, config, seed, identityBlocks: identityBlocks);
        TinyTokenizer.Write(directory.Path);
        CalibrationPath = directory.Combine("calibration.txt");
        File.WriteAllText(CalibrationPath, CalibrationText);
        Model = PruningModel.Load(directory.Path);
    }

    public string ModelPath => directory.Path;
    public string CalibrationPath { get; }
    public LoadedModel Model { get; }
    public TextDocuments Calibration => TextDocuments.Read(CalibrationPath);

    public static CalibrationOptions SmallCalibration { get; } = new()
    {
        PromptTokens = 16, ContinuationTokens = 8, MaxTokens = 24 * 8, First = 2, Last = 3, BatchSize = 4,
    };

    public PruneOutcome Search(int prefillSkip, int decodeSkip, int seed = 1, int iterations = 12, KvLayerRequest? kv = null,
        double? prefillKlBudget = null) =>
        PruneSearch.Run(Model, Calibration, new PruneOptions
        {
            PrefillSkip = prefillSkip,
            PrefillKlBudget = prefillKlBudget,
            DecodeSkip = decodeSkip,
            Seed = seed,
            Iterations = iterations,
            Calibration = SmallCalibration,
            KvLayers = kv ?? KvLayerRequest.Automatic,
        });

    public void Dispose()
    {
        Model.Dispose();
        directory.Dispose();
    }
}
