using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// A <c>pdserve up</c> child process for one scenario: started with the scenario's arguments, ready when it prints its
/// "PdServe is up" banner (it does so after every node answered <c>/healthz</c>), stopped with SIGTERM so it stops its
/// nodes and removes its network namespace itself.
/// </summary>
public sealed class UpCluster : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    private readonly ChildProcess process;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private UpCluster(IReadOnlyList<string> arguments, TextWriter log)
    {
        process = ChildProcess.Start("up", PdServeExecutable.StartInfo(arguments), log);
        process.LineReceived += line =>
        {
            if (line.StartsWith("PdServe is up", StringComparison.Ordinal)) ready.TrySetResult();
        };
    }

    public int Pid => process.Pid;

    public static async Task<UpCluster> StartAsync(IReadOnlyList<string> arguments, TextWriter log, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cluster = new UpCluster(arguments, log);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!cluster.ready.Task.IsCompleted)
            {
                if (cluster.process.HasExited)
                    throw new CliError($"pdserve {string.Join(' ', arguments)} exited with code {cluster.process.ExitCode}: {cluster.process.LastOutput}");
                if (DateTime.UtcNow > deadline)
                    throw new CliError($"pdserve {string.Join(' ', arguments)} was not up within {timeout.TotalSeconds:0} s: {cluster.process.LastOutput}");
                await Task.WhenAny(cluster.ready.Task, Task.Delay(200, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        process.Stop(StopGrace);
        process.Dispose();
    }
}
