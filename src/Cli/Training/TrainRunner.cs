using System.Globalization;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Engine.Loading;
using PdServe.Engine.Tokenization;
using PdServe.Training.Corpus;
using PdServe.Training.Tokenizers;
using PdServe.Training.Trainer;
using static TorchSharp.torch;

namespace PdServe.Cli.Training;

/// <summary>Runs <c>pdserve train</c>: tokenizer, model directory files, the training loop, the final export and a summary.</summary>
public static class TrainRunner
{
    public static int Run(TrainOptions options, CliContext context)
    {
        using var interrupt = new InterruptSignal();
        IReadOnlyList<string> trainDocuments = DocumentsInput.Read(options.CorpusPath, "--corpus").Documents;
        IReadOnlyList<string>? heldoutDocuments = options.HeldoutPath is { } h ? DocumentsInput.Read(h, "--heldout").Documents : null;
        string output = options.OutputDirectory;
        if (File.Exists(output)) throw new CliError(I($"--out '{output}' is a file, not a directory"));
        Directory.CreateDirectory(output);

        TextTokenizer tokenizer;
        ModelConfig config;
        if (options.ContinueFrom is { } source)
        {
            if (options.Resume) throw new CliError("--continue-from starts a new run and --resume continues one; pass one of them");
            if (!TrainingCheckpoint.Exists(source)) throw new CliError(I($"--continue-from: '{source}' holds no training checkpoint"));
            if (Path.GetFullPath(source).TrimEnd('/') == Path.GetFullPath(output).TrimEnd('/'))
                throw new CliError("--continue-from must name another directory than --out (use --resume to continue a run in place)");
            if (TrainingCheckpoint.Exists(output))
                throw new CliError(I($"'{output}' already holds a training run; pass --resume to continue it, or choose another --out"));
            foreach (string file in new[] { ModelDirectory.ConfigFileName, "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
                File.Copy(Path.Combine(source, file), Path.Combine(output, file), overwrite: true);
            tokenizer = TextTokenizer.Load(output);
            config = ModelConfig.Load(Path.Combine(output, ModelDirectory.ConfigFileName));
        }
        else if (options.Resume)
        {
            if (!TrainingCheckpoint.Exists(output)) throw new CliError(I($"--resume: '{output}' holds no training checkpoint"));
            tokenizer = TextTokenizer.Load(output);
            config = ModelConfig.Load(Path.Combine(output, ModelDirectory.ConfigFileName));
        }
        else
        {
            if (TrainingCheckpoint.Exists(output))
                throw new CliError(I($"'{output}' already holds a training run; pass --resume to continue it, or choose another --out"));
            try
            {
                options.Training.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliError(e.Message);
            }
            BpeTrainingResult bpe = LoadingProgress.Run(context, "Training the tokenizer",
                progress => ByteLevelBpeTrainer.Train(trainDocuments, new BpeTrainingOptions { VocabSize = options.VocabSize }, progress));
            bpe.WriteTokenizer(output);
            tokenizer = TextTokenizer.Load(output);
            config = options.Training.Shape.ToModelConfig(bpe.VocabSize, bpe.BosTokenId!.Value, bpe.EosTokenId!.Value);
            ModelConfigJson.WriteFiles(output, config, ScalarType.BFloat16);
        }

        TrainingOptions planned = options.Resume ? TrainingCheckpoint.LoadState(output).Options
            : options.ContinueFrom is null ? options.Training
            : options.Training with { Shape = ShapeOf(config) };
        if (planned.PackDocuments)
        {
            trainDocuments = DocumentPacker.Pack(trainDocuments, tokenizer, planned.SequenceLength);
            if (heldoutDocuments is not null) heldoutDocuments = DocumentPacker.Pack(heldoutDocuments, tokenizer, planned.SequenceLength);
        }
        IReadOnlyList<string> trainText = trainDocuments;
        TokenStream train = LoadingProgress.Run(context, "Encoding the corpus", _ => TokenStream.Encode(trainText, tokenizer));
        TokenStream? heldout = heldoutDocuments is null ? null : TokenStream.Encode(heldoutDocuments, tokenizer);
        using ModelTrainer trainer = CreateTrainer(options, planned, config, train, heldout);
        TrainingOptions run = trainer.State.Options;
        long parameters = trainer.Model.parameters().Sum(p => p.numel());
        context.Stdout.WriteLine(
            I($"model: {config.NumLayers} blocks, hidden {config.HiddenSize}, heads {config.NumHeads}/{config.NumKvHeads}, ") +
            I($"intermediate {config.IntermediateSize}, vocab {config.VocabSize}, {parameters / 1e6:F2}M parameters"));
        context.Stdout.WriteLine(
            I($"data: {train.Length:N0} training tokens in {train.Documents:N0} documents") +
            (heldout is null ? "" : I($", {heldout.Length:N0} held-out tokens")) +
            I($"; {run.BatchSize} x {run.SequenceLength} tokens per step, {run.Steps:N0} steps") +
            (run.ShortSequenceLength > 0 ? I($" (the first {run.ShortSequenceSteps:N0} as {run.RowsAt(run.ShortSequenceLength)} x {run.ShortSequenceLength})") : "") +
            (trainer.State.Step > 0 ? I($", resuming at step {trainer.State.Step:N0}") : "") +
            (trainer.State.ContinuedFrom is { } from ? I($"; continuing from {from.Directory} (step {from.Step:N0}, {from.TokensSeen:N0} tokens seen)") : ""));
        context.Stdout.Flush();

        TimeSpan? budget = options.Minutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null;
        TrainingState final = trainer.Run(new TrainingLog(context.Stdout), timeBudget: budget, cancellation: interrupt.Token);
        double? heldoutLoss = trainer.HeldoutLoss();
        context.Stdout.WriteLine(
            (final.Step >= run.Steps ? "done" : "stopped") +
            I($" at step {final.Step:N0}/{run.Steps:N0}: {final.TokensSeen:N0} tokens seen, ") +
            I($"train loss {final.LastLoss:F4}") +
            (heldoutLoss is { } l ? I($", held-out loss {l:F4} (perplexity {Math.Exp(l):F2})") : "") +
            I($", {TimeSpan.FromSeconds(final.ElapsedSeconds):hh\\:mm\\:ss} training time") +
            (final.ContinuedFrom is not null
                ? I($" ({Totals(final).Tokens:N0} tokens and {TimeSpan.FromSeconds(Totals(final).Seconds):hh\\:mm\\:ss} with the runs it continued)")
                : "") +
            I($"; model in {Path.GetFullPath(output)}") +
            (final.Step < run.Steps ? "; continue with --resume" : ""));
        return interrupt.Token.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    private static ModelTrainer CreateTrainer(TrainOptions options, TrainingOptions planned, ModelConfig config, TokenStream train, TokenStream? heldout)
    {
        try
        {
            if (options.Resume) return ModelTrainer.Resume(config, train, heldout, options.OutputDirectory);
            return options.ContinueFrom is { } source
                ? ModelTrainer.Continue(planned, config, source, train, heldout, options.OutputDirectory)
                : ModelTrainer.Start(planned, config, train, heldout, options.OutputDirectory);
        }
        catch (ArgumentException e)
        {
            throw new CliError(e.Message);
        }
    }

    /// <summary>A continued run trains the model it was given: its shape is the source's, whatever the shape options say.</summary>
    private static TrainingShape ShapeOf(ModelConfig config) => new()
    {
        Blocks = config.NumLayers,
        Hidden = config.HiddenSize,
        Heads = config.NumHeads,
        KvHeads = config.NumKvHeads,
        Intermediate = config.IntermediateSize,
        ContextLength = config.MaxPositionEmbeddings,
    };

    /// <summary>Tokens and training seconds of this run and every run it continued.</summary>
    private static (long Tokens, double Seconds) Totals(TrainingState state)
    {
        (long tokens, double seconds) = (state.TokensSeen, state.ElapsedSeconds);
        for (ContinuationSource? from = state.ContinuedFrom; from is not null; from = from.ContinuedFrom)
            (tokens, seconds) = (tokens + from.TokensSeen, seconds + from.ElapsedSeconds);
        return (tokens, seconds);
    }

    private static string I(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>One line per logged step: every 10th step, every evaluation and checkpoint, and the last.</summary>
    private sealed class TrainingLog(TextWriter output) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Step % 10 != 0 && p.HeldoutLoss is null && !p.Checkpointed && p.Step != p.TotalSteps) return;
            output.WriteLine(
                I($"step {p.Step,6}/{p.TotalSteps}  loss {p.Loss:F4}") +
                (p.HeldoutLoss is { } h ? I($"  held-out@{p.SequenceLength} {h:F4} (ppl {Math.Exp(h):F1})") : "") +
                I($"  lr {p.LearningRate:0.000e0}  {p.TokensPerSecond:F0} tok/s  elapsed {p.Elapsed:hh\\:mm\\:ss}") +
                (p.Remaining is { } r ? I($"  eta {r:hh\\:mm\\:ss}") : "") +
                (p.Checkpointed ? "  [checkpoint]" : ""));
            output.Flush();
        }
    }
}
