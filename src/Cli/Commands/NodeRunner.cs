using System.Net.Sockets;
using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using PdServe.NodeHosting;

namespace PdServe.Cli.Commands;

/// <summary>
/// Runs a node until Ctrl+C or SIGTERM: starts it, waits for the model, prints one line saying where it serves,
/// then on shutdown lets in-flight requests finish. A model or plan that cannot be used is one stderr line, exit 2.
/// </summary>
public static class NodeRunner
{
    public static int Run(string kind, Func<Task<RunningNode>> start, CliContext context)
    {
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
                node.Readiness.Loaded.GetAwaiter().GetResult();
            }
            catch (Exception error) when (error is PrunePlanException or ModelLoadException or ArgumentException)
            {
                throw new CliError($"{kind}: {error.Message}", error);
            }
            string http = node.HttpAddress is { } h ? $", HTTP/1.1 on {h}" : "";
            context.Stdout.WriteLine($"pdserve {kind} node ready on {node.Address}{http}");
            context.Stdout.Flush();
            node.WaitForShutdownAsync().GetAwaiter().GetResult();
            return ExitCodes.Ok;
        }
        finally
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
