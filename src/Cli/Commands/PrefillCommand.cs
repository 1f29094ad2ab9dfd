using System.CommandLine;
using PdServe.Prefill;
using PdServe.Cli.Nodes;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary><c>pdserve prefill --model DIR [--plan FILE] --port P [--host A] [--threads N]</c>: run a prefill node.</summary>
public static class PrefillCommand
{
    public static Command Create(CliContext context)
    {
        var node = new NodeOptions();
        node.Threads.Description = "Prompts processed at once, one torch thread each (default: the processor count)";
        var command = new Command("prefill", "Run a prefill node: computes prompts' KV and streams it to decode nodes");
        node.AddTo(command);
        command.SetAction(parseResult =>
        {
            var options = new PrefillNodeOptions
            {
                ModelDirectory = parseResult.GetRequiredValue(node.Model),
                PlanPath = parseResult.GetValue(node.Plan),
                Host = node.Settings(parseResult, "pdserve-prefill"),
                Threads = parseResult.GetValue(node.Threads),
            };
            return NodeRunner.Run("prefill", () => PrefillNodeHost.StartAsync(options), context);
        });
        return command;
    }
}
