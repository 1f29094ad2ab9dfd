using System.Net.Sockets;
using PdServe.Cli.Cluster;
using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using PdServe.NodeHosting;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Nodes;

/// <summary>
/// Runs a node until Ctrl+C or SIGTERM: starts it, waits for the model, prints one line saying where it serves,
/// then on shutdown lets in-flight requests finish. A model or plan that cannot be used is one stderr line, exit 2.
/// A node started by <c>pdserve up</c> also stops when <c>up</c> is gone (<see cref="ParentWatchdog"/>): in-flight
/// requests get <see cref="OrphanStopBound"/> to finish, then the process exits, so a killed <c>up</c> leaves no node.
/// </summary>
public static class NodeRunner
{
    private static readonly TimeSpan OrphanStopBound = TimeSpan.FromSeconds(2);
    // After the graceful bound, with room for the host's own disposal.
    private static readonly TimeSpan OrphanExitBound = TimeSpan.FromSeconds(3.5);

    public static int Run(string kind, Func<Task<RunningNode>> start, CliContext context)
    {
        using var watchdog = ParentWatchdog.FromEnvironment(OrphanExitBound);
        CancellationToken parentGone = watchdog?.ParentGone ?? CancellationToken.None;
        RunningNode node;
        try
        {
            node = start().GetAwaiter().GetResult();
        }
        catch (IOException error) when (error.InnerException is SocketException || error.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliError($"{kind}: cannot listen: {error.Message}", error);
        }
        catch (ArgumentException error)
        {
            throw new CliError($"{kind}: {error.Message}", error);
        }
        try
        {
            try
            {
                node.Readiness.Loaded.WaitAsync(parentGone).GetAwaiter().GetResult();
            }
            catch (Exception error) when (error is PrunePlanException or ModelLoadException or ArgumentException)
            {
                throw new CliError($"{kind}: {error.Message}", error);
            }
            string http = node.HttpAddress is { } h ? $", HTTP/1.1 on {h}" : "";
            context.Stdout.WriteLine($"pdserve {kind} node ready on {node.Address}{http}");
            context.Stdout.Flush();
            // Not WaitForShutdownAsync(parentGone): that token starts an unbounded graceful stop instead of ending the wait.
            node.WaitForShutdownAsync().WaitAsync(parentGone).GetAwaiter().GetResult();
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (parentGone.IsCancellationRequested)
        {
            return StopOrphan(kind, node, watchdog!.ParentPid, context);
        }
        finally
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int StopOrphan(string kind, RunningNode node, int parentPid, CliContext context)
    {
        context.Stderr.WriteLine($"pdserve {kind}: parent process {parentPid} is gone; stopping");
        using var bound = new CancellationTokenSource(OrphanStopBound);
        try
        {
            node.StopAsync(bound.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // In-flight requests outlived the bound; nobody is left to wait for their answers.
        }
        return ExitCodes.Failure;
    }
}
