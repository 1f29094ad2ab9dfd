using Grpc.Net.Client;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.Engine.Loading;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>
/// TTFT of greedy requests when the KV crosses a rate-limited link: a prefill node process inside a
/// <see cref="ShapedLink"/> namespace, a decode node process in the root namespace on 127.0.0.1 pulling from it over the
/// shaped veth, and the client calling the decode node over loopback (so only the prefill → decode KV path is shaped).
/// Run once with full transfer (no plan) and once with both nodes on the prune plan; every length is timed as the median
/// of the repetitions after a warm-up request.
/// </summary>
public static class LinkTtftBench
{
    /// <summary>The command line that runs this benchmark, as its errors name it.</summary>
    public const string Command = "bench transfer --link-mbit";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public static async Task<Table> RunAsync(string modelDirectory, string planFile, IReadOnlyList<int> promptLengths, int repetitions,
        int megabitsPerSecond, TextWriter log, CancellationToken cancellationToken)
    {
        ModelConfig config = ModelDirectory.Open(modelDirectory).Config;
        int[] lengths = promptLengths.Where(n => n < config.MaxPositionEmbeddings).ToArray();
        if (lengths.Length == 0)
            throw new CliError($"{Command}: every --lengths value is beyond the model's {config.MaxPositionEmbeddings}-token context");
        using ShapedLink link = ShapedLink.Create(megabitsPerSecond, Command);
        var full = await MeasureAsync(link, modelDirectory, null, config, lengths, repetitions, log, cancellationToken);
        var pruned = await MeasureAsync(link, modelDirectory, planFile, config, lengths, repetitions, log, cancellationToken);

        var table = new Table().AddColumns("prompt tokens", "bytes full", "bytes pruned", "TTFT full", "TTFT pruned", "ratio (pruned ÷ full)");
        foreach (int length in promptLengths)
        {
            if (length >= config.MaxPositionEmbeddings)
            {
                table.AddRow($"{length}", $"beyond the model's {config.MaxPositionEmbeddings}-token context", "", "", "", "");
                continue;
            }
            var (fullSeconds, fullBytes) = full[length];
            var (prunedSeconds, prunedBytes) = pruned[length];
            table.AddRow($"{length}", $"{fullBytes / 1024.0:0.0} KiB", $"{prunedBytes / 1024.0:0.0} KiB ({(double)fullBytes / prunedBytes:0.0}× fewer)",
                $"{fullSeconds * 1000:0.0} ms", $"{prunedSeconds * 1000:0.0} ms", $"{prunedSeconds / fullSeconds:0.00}");
        }
        return table;
    }

    private static async Task<Dictionary<int, (double Seconds, long Bytes)>> MeasureAsync(ShapedLink link, string modelDirectory, string? planFile,
        ModelConfig config, int[] lengths, int repetitions, TextWriter log, CancellationToken cancellationToken)
    {
        // One core each where there are two, as in `pdserve up`.
        int decodeCore = Math.Min(1, Environment.ProcessorCount - 1);
        var prefillSpec = new NodeSpec(NodeRole.Prefill, 0, NodeSpec.FreePort(), 1, [0], ShapedLink.NamespaceAddress, link.Namespace);
        var decodeSpec = new NodeSpec(NodeRole.Decode, 0, NodeSpec.FreePort(), 1, [decodeCore]);
        var nodes = new List<NodeProcess>();
        try
        {
            // Every repetition sends the same prompt: with reuse on, the prefix cache would answer all but the first from
            // memory and the parked prompt would shrink the transfer, so TTFT would time neither prefill nor link.
            nodes.Add(NodeProcess.Start(prefillSpec, modelDirectory, planFile, null, [], log, reuse: false));
            nodes.Add(NodeProcess.Start(decodeSpec, modelDirectory, planFile, null, [prefillSpec.Address], log, reuse: false));
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) })
                await Task.WhenAll(nodes.Select(n => n.WaitHealthyAsync(http, StartupTimeout, cancellationToken)));

            using GrpcChannel channel = GrpcChannel.ForAddress(decodeSpec.Address, new GrpcChannelOptions { MaxReceiveMessageSize = MessageLimits.MaxMessageBytes });
            var client = new DecodeService.DecodeServiceClient(channel);
            var results = new Dictionary<int, (double, long)>();
            foreach (int length in lengths)
            {
                // The same prompt for both runs: seeded by its length.
                var random = new Random(length);
                int[] prompt = Enumerable.Range(0, length).Select(_ => random.Next(3, config.VocabSize)).ToArray();
                long bytes = 0;
                var times = new List<double>();
                for (int run = 0; run <= repetitions; run++)
                {
                    var (seconds, sent) = await FirstTokenProbe.MeasureAsync(client, prompt, prefillSpec.Address, cancellationToken);
                    // Run 0 warms up (JIT, first touch of this length's buffers) and is not counted.
                    if (run > 0) times.Add(seconds);
                    bytes = sent;
                }
                times.Sort();
                results[length] = (times[times.Count / 2], bytes);
            }
            return results;
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => Task.Run(() => n.Stop(StopGrace), CancellationToken.None)));
            foreach (var node in nodes) node.Dispose();
        }
    }
}
