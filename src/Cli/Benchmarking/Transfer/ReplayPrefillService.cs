using Grpc.Core;
using PdServe.Contracts;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>A prefill service that computes nothing: it writes a prepared stream of events, so a benchmark sees the wire alone.</summary>
public sealed class ReplayPrefillService : PrefillService.PrefillServiceBase
{
    public IReadOnlyList<PrefillEvent> Events { get; set; } = [];

    public override async Task Prefill(PrefillRequest request, IServerStreamWriter<PrefillEvent> stream, ServerCallContext context)
    {
        foreach (PrefillEvent item in Events) await stream.WriteAsync(item, context.CancellationToken);
    }
}
