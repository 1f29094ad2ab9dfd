using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using PdServe.Decode;
using PdServe.Engine.Loading;
using PdServe.KvTransfer.Protocol;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using PdServe.Prefill;
using Spectre.Console;

namespace PdServe.Cli.Commands;

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
        RunningNode prefill = PrefillNodeHost.StartAsync(new PrefillNodeOptions { ModelDirectory = modelDirectory, Host = quiet, Threads = 1 }).GetAwaiter().GetResult();
        RunningNode decode = DecodeNodeHost.StartAsync(new DecodeNodeOptions
        {
            ModelDirectory = modelDirectory, Host = quiet, Threads = 1, MaxContextTokens = config.MaxPositionEmbeddings, MaxBatchSize = 1,
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
                double unified = BenchTiming.Median(repetitions, () => FirstToken(client, prompt, "").Seconds);
                double pd = BenchTiming.Median(repetitions, () => FirstToken(client, prompt, prefillAddress).Seconds);
                long sent = FirstToken(client, prompt, prefillAddress).SentBytes;
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

    private static (double Seconds, long SentBytes) FirstToken(DecodeService.DecodeServiceClient client, int[] prompt, string prefillAddress)
    {
        var request = new GenerateRequest
        {
            RequestId = "bench",
            PromptTokenIds = { prompt },
            Sampling = new SamplingOptions { Temperature = 0, MaxTokens = 1, IgnoreEos = true },
            N = 1,
            PrefillAddress = prefillAddress,
        };
        long started = Stopwatch.GetTimestamp();
        double? first = null;
        long sent = 0;
        using AsyncServerStreamingCall<GenerateEvent> call = client.Generate(request);
        while (call.ResponseStream.MoveNext(CancellationToken.None).GetAwaiter().GetResult())
        {
            if (call.ResponseStream.Current.Token is not null) first ??= Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (call.ResponseStream.Current.Summary is { } summary) sent = summary.KvBytesSent;
        }
        return (first ?? throw new InvalidOperationException("no token came back"), sent);
    }
}
