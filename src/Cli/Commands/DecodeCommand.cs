using PdServe.Decode.Admission;
using System.CommandLine;
using PdServe.Decode;
using PdServe.Cli.Nodes;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve decode --model DIR [--plan FILE] --port P [--host A] [--threads N] [--kv-budget-mb M] [--prefill-nodes LIST]</c>:
/// run a decode node.
/// </summary>
public static class DecodeCommand
{
    public static Command Create(CliContext context)
    {
        var node = new NodeOptions();
        var kvBudget = OptionChecks.Int("--kv-budget-mb", 1024, "KV cache bytes (MiB) the node admits at once; beyond, RESOURCE_EXHAUSTED", "M")
            .Require(m => m >= 1, "an integer >= 1");
        var transferTimeout = OptionChecks.Double("--transfer-timeout", 60, "Seconds a KV pull from a prefill node may take", "S")
            .Require(s => s > 0, "> 0");
        var maxBatch = OptionChecks.Int("--max-batch", 16, "Sequences decoded together in one step", "N")
            .Require(n => n >= 1, "an integer >= 1");
        var maxContext = OptionChecks.Int("--max-context", 2048, "Longest sequence, prompt and generated tokens", "N")
            .Require(n => n >= 2, "an integer >= 2");
        var prefillNodes = new Option<string>("--prefill-nodes")
        {
            Description = "Comma-separated prefill nodes this node may pull KV from (http://host:port; a DNS name stands for all its addresses); "
                          + "without it, only unified mode (the node prefills itself)",
            HelpName = "LIST",
        }.Require(list => ParsePrefillNodes(list) is not null, "a comma-separated list of http://host:port addresses");
        var conversationCache = OnOffOption.Create("--conversation-cache", true,
            "Park each finished request's prompt KV (within the KV budget, evicted first) so the conversation's next turn pulls only its new tokens' KV");
        var kernel = DecodeKernelOptions.Kernel();
        var fastWeights = DecodeKernelOptions.Weights();
        var command = new Command("decode", "Run a decode node: pulls KV from prefill nodes (or prefills locally) and streams tokens");
        node.AddTo(command);
        foreach (Option option in new Option[] { kvBudget, transferTimeout, maxBatch, maxContext, prefillNodes, conversationCache, kernel, fastWeights }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var decodeKernel = DecodeKernelOptions.ParseKernel(parseResult.GetValue(kernel)!);
            var options = new DecodeNodeOptions
            {
                DecodeKernel = decodeKernel,
                FastWeights = DecodeKernelOptions.ParseWeights(parseResult.GetValue(fastWeights)!, decodeKernel),
                ModelDirectory = parseResult.GetRequiredValue(node.Model),
                PlanPath = parseResult.GetValue(node.Plan),
                Host = node.Settings(parseResult, "pdserve-decode"),
                Threads = parseResult.GetValue(node.Threads),
                KvBudgetBytes = parseResult.GetValue(kvBudget) * (1L << 20),
                TransferTimeout = TimeSpan.FromSeconds(parseResult.GetValue(transferTimeout)),
                MaxBatchSize = parseResult.GetValue(maxBatch),
                MaxContextTokens = parseResult.GetValue(maxContext),
                TrustedPrefillNodes = parseResult.GetValue(prefillNodes) is { } list ? ParsePrefillNodes(list)! : [],
                ConversationCache = OnOffOption.Parse(parseResult.GetValue(conversationCache)!),
            };
            return NodeRunner.Run("decode", () => DecodeNodeHost.StartAsync(options), context);
        });
        return command;
    }

    /// <summary>The addresses of <c>--prefill-nodes</c>, or null when one is not an http URL of a host (no path, no query).</summary>
    public static IReadOnlyList<string>? ParsePrefillNodes(string list)
    {
        string[] addresses = list.Split(',', StringSplitOptions.TrimEntries);
        bool valid = addresses.All(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
                                        && uri.AbsolutePath == "/" && uri.Query.Length == 0);
        return valid ? addresses : null;
    }
}
