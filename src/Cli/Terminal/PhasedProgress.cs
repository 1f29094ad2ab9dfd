using PdServe.Pruning;
using Spectre.Console;

namespace PdServe.Cli.Terminal;

/// <summary>
/// Progress bars with elapsed time and ETA on stderr for jobs that run in phases (evaluation, pruning search): each
/// new phase name gets its own bar. Only when stderr is a terminal; otherwise the work runs silently.
/// </summary>
public static class PhasedProgress
{
    public static T Run<T>(CliContext context, Func<IProgress<ProgressUpdate>, T> work)
    {
        if (!context.StderrIsTerminal)
            return work(new Progress<ProgressUpdate>());

        var console = CliContext.CreateConsole(context.Stderr, isTerminal: true);
        return console.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .Start(ctx =>
            {
                var sink = new PhaseTasks(ctx);
                T result = work(sink);
                sink.Complete();
                return result;
            });
    }

    /// <summary>Reports arrive on the worker's thread; Spectre's tasks are safe to update from it.</summary>
    private sealed class PhaseTasks(ProgressContext context) : IProgress<ProgressUpdate>
    {
        private readonly Dictionary<string, ProgressTask> tasks = new(StringComparer.Ordinal);
        private ProgressTask? current;

        public void Report(ProgressUpdate value)
        {
            if (!tasks.TryGetValue(value.Phase, out ProgressTask? task))
            {
                if (current is not null) current.Value = current.MaxValue;
                task = context.AddTask(Markup.Escape(value.Phase), autoStart: true, maxValue: 1.0);
                tasks[value.Phase] = task;
            }
            current = task;
            task.Value = double.IsFinite(value.Fraction) ? Math.Clamp(value.Fraction, 0.0, 1.0) : 0.0;
        }

        public void Complete()
        {
            foreach (ProgressTask task in tasks.Values) task.Value = task.MaxValue;
        }
    }
}
