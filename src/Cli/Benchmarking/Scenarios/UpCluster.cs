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

    private readonly ChildProcess _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private UpCluster(IReadOnlyList<string> arguments, TextWriter log)
    {
        _process = ChildProcess.Start("up", PdServeExecutable.StartInfo(arguments), log);
        _process.LineReceived += line =>
        {
            if (line.StartsWith("PdServe is up", StringComparison.Ordinal)) _ready.TrySetResult();
        };
    }

    public int Pid => _process.Pid;

    public static async Task<UpCluster> StartAsync(IReadOnlyList<string> arguments, TextWriter log, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cluster = new UpCluster(arguments, log);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!cluster._ready.Task.IsCompleted)
            {
                if (cluster._process.HasExited)
                    throw new CliError($"pdserve {string.Join(' ', arguments)} exited with code {cluster._process.ExitCode}: {cluster._process.LastOutput}");
                if (DateTime.UtcNow > deadline)
                    throw new CliError($"pdserve {string.Join(' ', arguments)} was not up within {timeout.TotalSeconds:0} s: {cluster._process.LastOutput}");
                await Task.WhenAny(cluster._ready.Task, Task.Delay(200, cancellationToken));
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
        _process.Stop(StopGrace);
        _process.Dispose();
    }
}
