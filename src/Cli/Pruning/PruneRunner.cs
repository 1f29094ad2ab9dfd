using PdServe.Cli.Evaluation;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Training.Corpus;
using PdServe.Engine.Loading;
using PdServe.Pruning;
using PdServe.Pruning.Search;

namespace PdServe.Cli.Pruning;

/// <summary>
/// Runs <c>pdserve prune</c>: refuses what it cannot use before the model loads, searches the plan, writes and summarises
/// it, and with <c>--eval</c> scores it on held-out text (<see cref="PruneEvaluation"/>).
/// </summary>
public static class PruneRunner
{
    public static int Run(CliContext context, PruneRequest request)
    {
        // Everything that can be refused is refused before the model loads.
        CheckWritable(request.OutPath, "--out");
        TextDocuments calibration = DocumentsInput.Read(request.CalibPath, "--calib");
        TextDocuments? held = request.EvalPath is null ? null : DocumentsInput.Read(request.EvalPath, "--eval");
        if (held is not null && held.Sha256 == calibration.Sha256)
            throw new CliError("--eval: the held-out text is the calibration text; evaluate on text the search never saw");
        ModelDirectory directory = ModelDirectory.Open(request.ModelDir);
        PruningGuard.Run(() =>
        {
            request.Options.Validate(directory.Config.NumLayers);
            return 0;
        });

        using var interrupt = new InterruptSignal();
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress => PruningModel.Load(request.ModelDir, progress));
        PruneOutcome outcome = PhasedProgress.Run(context, progress =>
            PruningGuard.Run(() => PruneSearch.Run(loaded, calibration, request.Options, progress, interrupt.Token)));
        interrupt.Token.ThrowIfCancellationRequested();
        outcome.Plan.Save(request.OutPath);
        PruneSummary.Write(context, outcome, request.OutPath);

        if (held is not null)
            PruneEvaluation.Run(context, loaded, held, outcome, request.Options, request.EvalTokens, request.ReportDir, request.OutPath,
                request.CommandLine, interrupt.Token);
        return ExitCodes.Ok;
    }

    private static void CheckWritable(string path, string option)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null && !Directory.Exists(parent)) throw new CliError($"{option}: directory '{parent}' does not exist");
        if (Directory.Exists(path)) throw new CliError($"{option}: '{path}' is a directory");
    }
}
