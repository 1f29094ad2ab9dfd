using Grpc.Core;
using Grpc.Net.Client;
using PdServe.Contracts;

namespace PdServe.Nodes.Tests;

/// <summary>Calls a decode node's Generate and collects the events, as the gateway would.</summary>
public sealed class DecodeTestClient(Uri address) : IDisposable
{
    private readonly GrpcChannel channel = GrpcChannel.ForAddress(address);

    public DecodeService.DecodeServiceClient Raw => new(channel);

    public async Task<GenerateResult> GenerateAsync(GenerateRequest request, CancellationToken cancellation = default)
    {
        using AsyncServerStreamingCall<GenerateEvent> call = Raw.Generate(request, cancellationToken: cancellation);
        var events = new List<GenerateEvent>();
        await foreach (GenerateEvent item in call.ResponseStream.ReadAllAsync(cancellation)) events.Add(item);
        return new GenerateResult(events);
    }

    public static GenerateRequest Greedy(IEnumerable<int> prompt, int maxTokens, string prefillAddress = "", int n = 1) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"),
        PromptTokenIds = { prompt },
        Sampling = new SamplingOptions { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true },
        N = n,
        PrefillAddress = prefillAddress,
    };

    public void Dispose() => channel.Dispose();
}

/// <summary>The events of one Generate call, sorted out per sample.</summary>
public sealed record GenerateResult(IReadOnlyList<GenerateEvent> Events)
{
    public int[] Tokens(int sample = 0) =>
        Events.Where(e => e.Token is { } t && t.SampleIndex == sample).Select(e => e.Token.TokenId).ToArray();

    public float[] Logprobs(int sample = 0) =>
        Events.Where(e => e.Token is { } t && t.SampleIndex == sample).Select(e => e.Token.Logprob).ToArray();

    public RequestSummary Summary => Events.Single(e => e.Summary is not null).Summary;

    public IReadOnlyList<SampleFinished> Finished => Events.Where(e => e.Finished is not null).Select(e => e.Finished).ToArray();
}
