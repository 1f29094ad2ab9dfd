using System.Threading.Channels;
using PdServe.Engine.Generation;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Generation;

/// <summary>
/// The engine's counts and lifetimes are exact on every path: a stream ends only after its slots are free, and a
/// submission racing <see cref="InferenceEngine.Dispose"/> either fails at once or gets a stream that completes.
/// </summary>
public class EngineBookkeepingTests
{
    private static readonly ModelConfig Config = TinyCheckpoint.LlamaGqa();
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Reads a stream to its end and returns how it ended (null when it completed normally).</summary>
    private static async Task<Exception?> Drain(ChannelReader<GeneratedToken> stream, Action<GeneratedToken>? onToken = null)
    {
        try
        {
            await foreach (GeneratedToken token in stream.ReadAllAsync().WithCancellation(new CancellationTokenSource(Patience).Token))
                onToken?.Invoke(token);
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return error;
        }
    }

    [Fact]
    public async Task The_running_count_is_free_of_a_request_when_its_stream_ends()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        for (int i = 0; i < 12; i++)
        {
            var sampling = new SamplingParams { Temperature = i % 2 == 0 ? 0 : 1.3f, Seed = (ulong)i, MaxTokens = 1 + i % 4 };
            Exception? end = await Drain(engine.Submit(new GenerationRequest(TinyModels.RandomTokens(3 + i, Config.VocabSize, i), sampling, 1 + i % 3)));
            Assert.Null(end);
            Assert.Equal(0, engine.RunningCount);
        }
    }

    [Fact]
    public async Task The_running_count_is_free_of_a_cancelled_request_when_its_stream_ends()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        for (int i = 0; i < 5; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var request = new GenerationRequest(TinyModels.RandomTokens(5, Config.VocabSize, i),
                new SamplingParams { Temperature = 0, MaxTokens = 200 }, SampleCount: 2);
            // Read without the token: the stream ends when the engine drops the request, not when the reader gives up.
            int received = 0;
            Exception? end = await Drain(engine.Submit(request, cancellation.Token), _ =>
            {
                if (++received == 3) cancellation.Cancel();
            });
            Assert.Null(end);
            Assert.InRange(received, 3, 199);
            Assert.Equal(0, engine.RunningCount);
        }
    }

    [Fact]
    public async Task Seeds_wrap_past_the_largest_ulong()
    {
        using CausalLm model = TinyModels.Load(Config);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        int[] prompt = TinyModels.RandomTokens(6, Config.VocabSize, 11);
        var sampling = new SamplingParams { Temperature = 1.5f, Seed = ulong.MaxValue, MaxTokens = 10 };
        var samples = new List<GeneratedToken>();
        var fromZero = new List<GeneratedToken>();

        Assert.Null(await Drain(engine.Submit(new GenerationRequest(prompt, sampling, SampleCount: 2)), samples.Add));
        Assert.Null(await Drain(engine.Submit(new GenerationRequest(prompt, sampling with { Seed = 0 })), fromZero.Add));

        // Sample 1 of seed ulong.MaxValue draws with seed 0.
        Assert.Equal(fromZero.Select(t => t.Token.TokenId), samples.Where(t => t.SampleIndex == 1).Select(t => t.Token.TokenId));
    }

    [Fact]
    public void Submitting_to_a_disposed_engine_fails_at_once_and_frees_prefilled_kv()
    {
        using CausalLm model = TinyModels.Load(Config);
        var engine = new InferenceEngine(model, eosTokenIds: []);
        engine.Dispose();
        var request = new GenerationRequest([5, 6, 7], new SamplingParams { Temperature = 0, MaxTokens = 2 });
        Assert.Throws<ObjectDisposedException>(() => engine.Submit(request));
        var prompt = new PrefilledPrompt(model.Plan.RunBlocks.ToDictionary(b => b,
            _ => (zeros(Config.NumKvHeads, 3, Config.HeadDim), zeros(Config.NumKvHeads, 3, Config.HeadDim))), [new SampledToken(4, 0f, [])]);
        Tensor keys = prompt[model.Plan.RunBlocks.First()].Keys;
        Assert.Throws<ObjectDisposedException>(() => engine.SubmitPrefilled(request, prompt));
        Assert.True(keys.IsInvalid);
        engine.Dispose();
    }

    [Fact]
    public async Task Submissions_racing_dispose_fail_fast_or_get_a_stream_that_completes()
    {
        using CausalLm model = TinyModels.Load(Config);
        for (int round = 0; round < 5; round++) await RaceSubmissionsWithDispose(model);
    }

    private static async Task RaceSubmissionsWithDispose(CausalLm model)
    {
        var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions { MaxBatchSize = 4 });
        var request = new GenerationRequest([5, 6, 7], new SamplingParams { Temperature = 0, MaxTokens = 3 });
        const int submitters = 4, attempts = 300;
        using var start = new Barrier(submitters + 1);

        // The submitters and the disposer start together; each submitter stops at the first refusal.
        Task<List<ChannelReader<GeneratedToken>>>[] submitting = Enumerable.Range(0, submitters).Select(_ => Task.Factory.StartNew(() =>
        {
            var streams = new List<ChannelReader<GeneratedToken>>();
            start.SignalAndWait(Patience);
            for (int i = 0; i < attempts; i++)
            {
                try
                {
                    streams.Add(engine.Submit(request));
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
            }
            return streams;
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task disposing = Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Patience);
            engine.Dispose();
        }, TaskCreationOptions.LongRunning);

        List<ChannelReader<GeneratedToken>>[] streams = await Task.WhenAll(submitting).WaitAsync(Patience);
        await disposing.WaitAsync(Patience);
        Assert.Throws<ObjectDisposedException>(() => engine.Submit(request));
        Exception?[] ends = await Task.WhenAll(streams.SelectMany(s => s).Select(s => Drain(s))).WaitAsync(Patience);
        Assert.All(ends, end => Assert.True(end is null or ObjectDisposedException, $"a stream ended with {end}"));
    }
    [Fact]
    public async Task A_flood_of_submissions_does_not_keep_a_running_request_from_finishing_as_it_would_alone()
    {
        using CausalLm model = TinyModels.Load(Config);
        var request = new GenerationRequest(TinyModels.RandomTokens(6, Config.VocabSize, 11), new SamplingParams { Temperature = 0, MaxTokens = 24 });
        int[] alone;
        using (var quiet = new InferenceEngine(model, eosTokenIds: []))
        {
            var tokens = new List<int>();
            Assert.Null(await Drain(quiet.Submit(request), t => tokens.Add(t.Token.TokenId)));
            alone = [.. tokens];
        }

        using var engine = new InferenceEngine(model, eosTokenIds: []);
        var received = new List<int>();
        Task<Exception?> running = Drain(engine.Submit(request), t => received.Add(t.Token.TokenId));
        // Four threads submit requests that are already cancelled as fast as they can, for as long as the request runs.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var floodStreams = new System.Collections.Concurrent.ConcurrentBag<ChannelReader<GeneratedToken>>();
        var flood = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var tiny = new GenerationRequest([1, 2], new SamplingParams { Temperature = 0, MaxTokens = 1 });
            for (int i = 0; i < 20_000 && !running.IsCompleted; i++) floodStreams.Add(engine.Submit(tiny, cancelled.Token));
        })).ToArray();

        Assert.Null(await running.WaitAsync(Patience));
        await Task.WhenAll(flood);
        Assert.Equal(alone, received);
        foreach (var stream in floodStreams) await Drain(stream);
        Assert.Equal(0, engine.RunningCount);
    }
}
