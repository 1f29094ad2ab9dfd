using PdServe.TestSupport;

namespace PdServe.Nodes.Tests;

/// <summary>Stopping a prefill node lets the prefill it is streaming finish before the node goes away.</summary>
public sealed class GracefulShutdownTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    [Fact]
    public async Task Stopping_a_prefill_node_finishes_its_in_flight_transfer()
    {
        var stall = new ChunkStall(chunk: 1);
        await using NodePair nodes = await NodePair.StartAsync(NodePair.PrefillOptions(model.Path), NodePair.DecodeOptions(model.Path), stall.Faults);
        int[] prompt = TinyModels.RandomTokens(40, model.Config.VocabSize, seed: 4);
        Task<GenerateResult> call = nodes.Client.GenerateAsync(DecodeTestClient.Greedy(prompt, 4, nodes.PrefillAddress));
        await stall.Reached.WaitAsync(TimeSpan.FromSeconds(30));

        Task stopping = nodes.Prefill.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "the node must wait for the in-flight transfer");
        stall.Release();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        GenerateResult result = await call;
        Assert.Equal(4, result.Tokens().Length);
        Assert.Equal(4L * 40 * 256, result.Summary.KvBytesSent);
    }
}
