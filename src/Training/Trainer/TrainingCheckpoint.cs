using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Training.Trainer;

/// <summary>
/// A resumable snapshot under OUT/training/checkpoint: float32 weights (Hugging Face names), the optimizer's
/// moments, and <see cref="TrainingState"/>. A new snapshot is written beside the old one and swapped in by
/// renames, so an interrupted save leaves the previous snapshot usable.
/// </summary>
public static class TrainingCheckpoint
{
    public const string WeightsFileName = SafeTensorsCheckpoint.SingleFileName;
    public const string OptimizerFileName = "optimizer.bin";
    public const string StateFileName = "state.json";

    public static string DirectoryOf(string outputDirectory) => Path.Combine(outputDirectory, "training", "checkpoint");

    public static bool Exists(string outputDirectory) => File.Exists(Path.Combine(Usable(outputDirectory) ?? "", StateFileName));

    public static void Save(string outputDirectory, CausalLm model, OptimizerHelper optimizer, TrainingState state)
    {
        string final = DirectoryOf(outputDirectory);
        string fresh = final + ".new", previous = final + ".old";
        if (Directory.Exists(fresh)) Directory.Delete(fresh, recursive: true);
        Directory.CreateDirectory(fresh);
        Dictionary<string, Tensor> weights = model.ExportWeights();
        try
        {
            SafeTensorsWriter.Write(Path.Combine(fresh, WeightsFileName), weights);
        }
        finally
        {
            foreach (Tensor t in weights.Values) t.Dispose();
        }
        optimizer.save_state_dict(Path.Combine(fresh, OptimizerFileName));
        state.Save(Path.Combine(fresh, StateFileName));
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        if (Directory.Exists(final)) Directory.Move(final, previous);
        Directory.Move(fresh, final);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    public static TrainingState LoadState(string outputDirectory) =>
        TrainingState.Load(Path.Combine(Usable(outputDirectory) ?? throw Missing(outputDirectory), StateFileName));

    /// <summary>Opens the snapshot's float32 weights as a weight source for <see cref="CausalLm.Load"/>.</summary>
    public static SafeTensorsCheckpoint OpenWeights(string outputDirectory) =>
        SafeTensorsCheckpoint.Open(Usable(outputDirectory) ?? throw Missing(outputDirectory));

    public static void LoadOptimizer(string outputDirectory, OptimizerHelper optimizer) =>
        optimizer.load_state_dict(Path.Combine(Usable(outputDirectory) ?? throw Missing(outputDirectory), OptimizerFileName));

    /// <summary>The complete snapshot: the current one, or the previous one when a swap was interrupted.</summary>
    private static string? Usable(string outputDirectory)
    {
        string final = DirectoryOf(outputDirectory);
        if (File.Exists(Path.Combine(final, StateFileName))) return final;
        string previous = final + ".old";
        return File.Exists(Path.Combine(previous, StateFileName)) ? previous : null;
    }

    private static InvalidDataException Missing(string outputDirectory) =>
        new($"no training checkpoint under '{DirectoryOf(outputDirectory)}' to resume from");
}
