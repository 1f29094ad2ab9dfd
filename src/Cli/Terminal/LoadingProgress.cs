using Spectre.Console;

namespace PdServe.Cli.Terminal;

/// <summary>
/// Shows a progress bar on stderr while <c>work</c> runs, fed by the <see cref="IProgress{T}"/> it is given
/// (fraction done, 0..1; values are clamped). Only when stderr is a terminal; otherwise the work runs silently,
/// so piped output and logs stay clean.
/// </summary>
public static class LoadingProgress
{
    public static T Run<T>(CliContext context, string description, Func<IProgress<double>, T> work)
    {
        if (!context.StderrIsTerminal)
            return work(NullProgress.Instance);

        var console = CliContext.CreateConsole(context.Stderr, isTerminal: true);
        return console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), autoStart: true, maxValue: 1.0);
                T result = work(new TaskProgress(task));
                task.Value = 1.0;
                return result;
            });
    }

    public static void Run(CliContext context, string description, Action<IProgress<double>> work) =>
        Run<object?>(context, description, progress =>
        {
            work(progress);
            return null;
        });

    private sealed class TaskProgress(ProgressTask task) : IProgress<double>
    {
        public void Report(double value) =>
            task.Value = double.IsFinite(value) ? Math.Clamp(value, 0.0, 1.0) : 0.0;
    }

    private sealed class NullProgress : IProgress<double>
    {
        public static readonly NullProgress Instance = new();
        public void Report(double value) { }
    }
}
