using PdServe.Contracts;
using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>n samples share one prefill and one transfer; a seed makes them reproducible.</summary>
public sealed class SamplingTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    [Fact]
    public async Task Three_seeded_samples_from_one_transfer_differ_and_reproduce_and_match_unified()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        int[] prompt = TinyModels.RandomTokens(30, model.Config.VocabSize, seed: 2);
        GenerateRequest Request(string address) => new()
        {
            RequestId = "n3",
            PromptTokenIds = { prompt },
            Sampling = new SamplingOptions { Temperature = 1.3f, TopK = 50, Seed = 1234, MaxTokens = 12, IgnoreEos = true },
            N = 3,
            PrefillAddress = address,
        };

        GenerateResult first = await nodes.Client.GenerateAsync(Request(nodes.PrefillAddress));
        GenerateResult again = await nodes.Client.GenerateAsync(Request(nodes.PrefillAddress));
        GenerateResult unified = await nodes.Client.GenerateAsync(Request(""));

        string[] completions = Enumerable.Range(0, 3).Select(i => string.Join(',', first.Tokens(i))).ToArray();
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(12, first.Tokens(i).Length));
        Assert.Equal(3, completions.Distinct().Count());
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(first.Tokens(i), again.Tokens(i)));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(unified.Tokens(i), first.Tokens(i)));

        // One prefill and one transfer per call: the prefill node served two requests, each sent the prompt's KV once.
        Assert.Equal(2, nodes.PrefillState.Metrics.Requests.WithLabels("ok").Value);
        Assert.Equal(4L * 30 * 256, first.Summary.KvBytesSent);
        Assert.Equal(36, first.Summary.CompletionTokens);
        Assert.Equal(3, first.Finished.Count);
    }
}
