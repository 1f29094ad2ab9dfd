using PdServe.Engine.Loading;
using PdServe.Training.Corpus;
using PdServe.Training.Trainer;

namespace PdServe.Training.Tests.Trainer;

/// <summary>A tiny model and a learnable synthetic corpus, so trainer tests run in seconds.</summary>
internal static class TinyTraining
{
    public const int Vocab = 64;

    public static TrainingOptions Options(long steps = 40) => new()
    {
        Shape = new TrainingShape { Blocks = 2, Hidden = 32, Heads = 4, KvHeads = 2, ContextLength = 32 },
        Steps = steps,
        BatchSize = 4,
        PeakLearningRate = 1e-2,
        WarmupSteps = 4,
        EvalEvery = 10,
        CheckpointEvery = 1000,
        EvalWindows = 4,
        ComputeDtype = TorchSharp.torch.ScalarType.Float32,
    };

    public static ModelConfig Config(TrainingOptions options) => options.Shape.ToModelConfig(Vocab, 0, 1);

    /// <summary>
    /// Documents of a counting language: BOS, then a start symbol followed by its successors mod 60 for a few tokens,
    /// then EOS. Once learned, every token after the first is predictable.
    /// </summary>
    public static TokenStream Corpus(int documents, int seed)
    {
        var random = new Random(seed);
        var tokens = new List<int>();
        for (int d = 0; d < documents; d++)
        {
            tokens.Add(0);
            int start = random.Next(60), length = 8 + random.Next(16);
            for (int i = 0; i < length; i++) tokens.Add(2 + (start + i) % 60);
            tokens.Add(1);
        }
        return TokenStream.FromTokens(tokens.ToArray(), documents);
    }
}
