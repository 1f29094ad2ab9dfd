using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using PdServe.Decode;
using PdServe.Engine.Loading;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using PdServe.Prefill;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>
/// Time to first token of one greedy request through in-process nodes over loopback: unified (the decode node
/// prefills) against PD (the decode node pulls the KV from the prefill node). Both nodes run one torch thread.
/// </summary>
public static class TtftBench
{
    public static Table Run(string modelDirectory, IReadOnlyList<int> promptLengths, int repetitions)
    {
        ModelConfig config = ModelDirectory.Open(modelDirectory).Config;
        var quiet = new NodeHostSettings { MinimumLogLevel = LogLevel.Warning };
        // Every repetition sends the same prompt, so reuse is off: each one must prefill and transfer it cold.
        RunningNode prefill = PrefillNodeHost.StartAsync(new PrefillNodeOptions { ModelDirectory = modelDirectory, Host = quiet, Threads = 1, PrefixCacheBytes = 0 })
            .GetAwaiter().GetResult();
        RunningNode decode = DecodeNodeHost.StartAsync(new DecodeNodeOptions
        {
            ModelDirectory = modelDirectory, Host = quiet, Threads = 1, MaxContextTokens = config.MaxPositionEmbeddings, MaxBatchSize = 1,
            ConversationCache = false,
        }).GetAwaiter().GetResult();
        try
        {
            Task.WhenAll(prefill.Readiness.Loaded, decode.Readiness.Loaded).GetAwaiter().GetResult();
            using GrpcChannel channel = GrpcChannel.ForAddress(decode.Address, new GrpcChannelOptions { MaxReceiveMessageSize = MessageLimits.MaxMessageBytes });
            var client = new DecodeService.DecodeServiceClient(channel);
            string prefillAddress = prefill.Address.ToString().TrimEnd('/');
            var table = new Table().AddColumns("prompt", "TTFT unified", "TTFT PD", "PD − unified", "KV sent");
            foreach (int length in promptLengths)
            {
                if (length >= config.MaxPositionEmbeddings)
                {
                    table.AddRow($"{length}", $"beyond the model's {config.MaxPositionEmbeddings}-token context", "", "", "");
                    continue;
                }
                var random = new Random(length);
                int[] prompt = Enumerable.Range(0, length).Select(_ => random.Next(3, config.VocabSize)).ToArray();
                double unified = BenchTiming.Median(repetitions, () => FirstTokenProbe.MeasureAsync(client, prompt, "").GetAwaiter().GetResult().Seconds);
                double pd = BenchTiming.Median(repetitions, () => FirstTokenProbe.MeasureAsync(client, prompt, prefillAddress).GetAwaiter().GetResult().Seconds);
                long sent = FirstTokenProbe.MeasureAsync(client, prompt, prefillAddress).GetAwaiter().GetResult().SentBytes;
                table.AddRow($"{length}", $"{unified * 1000:0.0} ms", $"{pd * 1000:0.0} ms", $"{(pd - unified) * 1000:+0.0;-0.0} ms", $"{sent / 1048576.0:0.00} MiB");
            }
            return table;
        }
        finally
        {
            decode.DisposeAsync().AsTask().GetAwaiter().GetResult();
            prefill.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
