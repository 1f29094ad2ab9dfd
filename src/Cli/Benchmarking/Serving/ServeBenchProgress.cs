using System.Globalization;
using PdServe.Cli.Terminal;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The live progress of a serving run on stderr: a bar per rate with done/failed counts when stderr is a terminal, else
/// a line at every tenth of a rate's requests (so logs of long runs show it is alive), failures included.
/// </summary>
public static class ServeBenchProgress
{
    public static Task<T> RunAsync<T>(CliContext context, Func<IServeBenchObserver, Task<T>> work)
    {
        if (!context.StderrIsTerminal) return work(new LineObserver(context.Stderr));
        var console = CliContext.CreateConsole(context.Stderr, isTerminal: true);
        return console.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(ctx => work(new BarObserver(ctx)));
    }

    private sealed class BarObserver(ProgressContext context) : IServeBenchObserver
    {
        private readonly Dictionary<string, (ProgressTask Task, int Done, int Failed)> rates = new();

        public void RateStarted(string rate, int requests)
        {
            lock (rates) rates[rate] = (context.AddTask(Description(rate, 0, 0, requests), maxValue: requests), 0, 0);
        }

        public void RequestFinished(string rate, RequestOutcome outcome)
        {
            lock (rates)
            {
                var (task, done, failed) = rates[rate];
                done++;
                if (!outcome.Success) failed++;
                rates[rate] = (task, done, failed);
                task.Increment(1);
                task.Description = Description(rate, done, failed, (int)task.MaxValue);
            }
        }

        public void RateFinished(RateResult result)
        {
        }

        private static string Description(string rate, int done, int failed, int total) =>
            $"rate {Markup.Escape(rate)}: {done}/{total}" + (failed > 0 ? $" [red]({failed} failed)[/]" : "");
    }

    private sealed class LineObserver(TextWriter log) : IServeBenchObserver
    {
        private readonly object counts = new();
        private int done, failed, total;

        public void RateStarted(string rate, int requests)
        {
            lock (counts) (done, failed, total) = (0, 0, requests);
            log.WriteLine($"rate {rate}: sending {requests} requests");
        }

        public void RequestFinished(string rate, RequestOutcome outcome)
        {
            lock (counts)
            {
                done++;
                if (!outcome.Success) failed++;
                int step = Math.Max(1, total / 10);
                if (done % step == 0 || done == total)
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rate {rate}: {done}/{total} done, {failed} failed"));
            }
        }

        public void RateFinished(RateResult result) =>
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rate {result.Rate}: {result.Completed} ok, {result.Failed} failed in {result.DurationSeconds:0.0} s"));
    }
}
