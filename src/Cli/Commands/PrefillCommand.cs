using System.CommandLine;
using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using PdServe.Prefill;
using PdServe.Cli.Nodes;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve prefill --model DIR [--plan FILE] --port P [--host A] [--threads N] [--prefix-cache-mb M] [--prefix-block-tokens B]</c>:
/// run a prefill node.
/// </summary>
public static class PrefillCommand
{
    public static Command Create(CliContext context)
    {
        var node = new NodeOptions();
        node.Threads.Description = "Prompts processed at once, one torch thread each (default: the processor count)";
        var prefixCacheMb = OptionChecks.Int("--prefix-cache-mb", 256,
                "KV (MiB) of prompt prefixes kept for later prompts that start the same way; 0 turns the prefix cache off", "M")
            .Require(m => m >= 0, "an integer >= 0");
        var prefixBlockTokens = OptionChecks.Int("--prefix-block-tokens", PrefixBlockCache.DefaultBlockTokens,
                $"Tokens per cached prefix block, a multiple of {CausalChunkedMask.ChunkLength}: a prompt reuses whole blocks, never the one holding its last token", "B")
            .Require(b => b >= 1 && b % CausalChunkedMask.ChunkLength == 0, $"a positive multiple of {CausalChunkedMask.ChunkLength}");
        var command = new Command("prefill", "Run a prefill node: computes prompts' KV and streams it to decode nodes");
        node.AddTo(command);
        command.Options.Add(prefixCacheMb);
        command.Options.Add(prefixBlockTokens);
        command.SetAction(parseResult =>
        {
            var options = new PrefillNodeOptions
            {
                ModelDirectory = parseResult.GetRequiredValue(node.Model),
                PlanPath = parseResult.GetValue(node.Plan),
                Host = node.Settings(parseResult, "pdserve-prefill"),
                Threads = parseResult.GetValue(node.Threads),
                PrefixCacheBytes = parseResult.GetValue(prefixCacheMb) * (1L << 20),
                PrefixBlockTokens = parseResult.GetValue(prefixBlockTokens),
            };
            return NodeRunner.Run("prefill", () => PrefillNodeHost.StartAsync(options), context);
        });
        return command;
    }
}
