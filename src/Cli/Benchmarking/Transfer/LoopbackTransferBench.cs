using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdServe.Engine.Loading;
using PdServe.KvTransfer.Accounting;
using PdServe.Contracts;
using PdServe.KvTransfer.Wire;
using PdServe.NodeHosting;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>
/// Throughput of the KV wire path over loopback: a replay server streams a prompt's full float32 KV (header, 1 MiB
/// chunks, trailer), and the same stream is read twice — raw (gRPC only: the ceiling) and as the decode node does
/// (placing chunks, XxHash3 checksums, decoding to float32). Computing nothing on the server isolates the transfer.
/// </summary>
public static class LoopbackTransferBench
{
    public static Table Run(ModelConfig config, IReadOnlyList<int> promptLengths, int repetitions)
    {
        var replay = new ReplayPrefillService();
        var listeners = new NodeListeners();
        WebApplicationBuilder builder = NodeWebHost.CreateBuilder(new NodeHostSettings { MinimumLogLevel = LogLevel.Warning }, listeners);
        builder.Services.AddSingleton(replay);
        WebApplication app = builder.Build();
        app.MapGrpcService<ReplayPrefillService>();
        app.StartAsync().GetAwaiter().GetResult();
        try
        {
            using GrpcChannel channel = GrpcChannel.ForAddress(NodeListeners.UriOf(listeners.Grpc!),
                new GrpcChannelOptions { MaxReceiveMessageSize = MessageLimits.MaxMessageBytes });
            var client = new PrefillService.PrefillServiceClient(channel);
            int[] layers = Enumerable.Range(0, config.NumLayers).ToArray();
            var table = new Table().AddColumns("prompt", "KV sent", "raw gRPC stream", "KV receive path", "of ceiling");
            foreach (int length in promptLengths)
            {
                replay.Events = SyntheticTransfer(config, length);
                long bytes = replay.Events[^1].Trailer.BytesSent;
                double raw = BenchTiming.Median(repetitions, () => DrainRaw(client));
                double received = BenchTiming.Median(repetitions, () => Receive(client, layers));
                double rawRate = bytes / raw / 1048576.0, receivedRate = bytes / received / 1048576.0;
                table.AddRow($"{length}", $"{bytes / 1048576.0:0.0} MiB", $"{rawRate:0} MiB/s", $"{receivedRate:0} MiB/s", $"{receivedRate / rawRate:0%}");
            }
            replay.Events = [];
            return table;
        }
        finally
        {
            app.StopAsync().GetAwaiter().GetResult();
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Header, chunks of every layer's keys and values (random float32 values), trailer — as a prefill node sends them.</summary>
    private static IReadOnlyList<PrefillEvent> SyntheticTransfer(ModelConfig config, int length)
    {
        var shape = new KvTensorShape(config.NumKvHeads, length, config.HeadDim);
        var random = new Random(length);
        float[] values = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        byte[] encoded = KvWireCodec.Encode(values, shape, WireDtype.Float32);
        var header = new KvHeader { PromptTokens = length, KvHeads = config.NumKvHeads, HeadDim = config.HeadDim, WireDtype = WireDtype.Float32 };
        var events = new List<PrefillEvent> { new() { Header = header } };
        var chunker = new KvChunker(MessageLimits.DefaultChunkBytes);
        int[] allPositions = Enumerable.Range(0, length).ToArray();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            header.Layers.Add(PositionRanges.ForLayer(layer, allPositions));
            foreach (KvPart part in new[] { KvPart.Keys, KvPart.Values })
                events.AddRange(chunker.Chunk(layer, part, encoded).Select(chunk => new PrefillEvent { Chunk = chunk }));
        }
        var accounting = KvByteAccounting.For(length, config.NumKvHeads, config.HeadDim, config.NumLayers, Enumerable.Repeat(length, config.NumLayers).ToArray(), WireDtype.Float32);
        var trailer = new KvTrailer { BytesFull = accounting.Full, BytesPrunedFloat32 = accounting.PrunedFloat32, BytesSent = accounting.Sent };
        trailer.ChunkChecksums.AddRange(chunker.Checksums);
        events.Add(new PrefillEvent { Trailer = trailer });
        return events;
    }

    private static double DrainRaw(PrefillService.PrefillServiceClient client)
    {
        long started = Stopwatch.GetTimestamp();
        using AsyncServerStreamingCall<PrefillEvent> call = client.Prefill(new PrefillRequest());
        while (call.ResponseStream.MoveNext(CancellationToken.None).GetAwaiter().GetResult()) { }
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static double Receive(PrefillService.PrefillServiceClient client, int[] layers)
    {
        long started = Stopwatch.GetTimestamp();
        using AsyncServerStreamingCall<PrefillEvent> call = client.Prefill(new PrefillRequest());
        IAsyncStreamReader<PrefillEvent> stream = call.ResponseStream;
        stream.MoveNext(CancellationToken.None).GetAwaiter().GetResult();
        var assembler = new KvAssembler(stream.Current.Header, layers, MessageLimits.DefaultChunkBytes);
        while (stream.MoveNext(CancellationToken.None).GetAwaiter().GetResult())
        {
            if (stream.Current.Chunk is { } chunk) assembler.Accept(chunk);
            else assembler.Complete(stream.Current.Trailer);
        }
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
