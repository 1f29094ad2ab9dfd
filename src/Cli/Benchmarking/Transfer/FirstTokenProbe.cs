using System.Diagnostics;
using Grpc.Core;
using PdServe.Contracts;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>
/// One greedy, one-token Generate call timed from the call to its first token event: the TTFT a client sees,
/// with the KV bytes the decode node reports having received for it.
/// </summary>
public static class FirstTokenProbe
{
    public static async Task<(double Seconds, long SentBytes)> MeasureAsync(DecodeService.DecodeServiceClient client, int[] prompt,
        string prefillAddress, CancellationToken cancellationToken = default)
    {
        var request = new GenerateRequest
        {
            RequestId = Guid.NewGuid().ToString("N"),
            PromptTokenIds = { prompt },
            Sampling = new SamplingOptions { Temperature = 0, MaxTokens = 1, IgnoreEos = true },
            N = 1,
            PrefillAddress = prefillAddress,
        };
        long started = Stopwatch.GetTimestamp();
        double? first = null;
        long sent = 0;
        using AsyncServerStreamingCall<GenerateEvent> call = client.Generate(request, cancellationToken: cancellationToken);
        await foreach (GenerateEvent item in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (item.Token is not null) first ??= Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (item.Summary is { } summary) sent = summary.KvBytesSent;
        }
        return (first ?? throw new InvalidOperationException("no token came back"), sent);
    }
}
