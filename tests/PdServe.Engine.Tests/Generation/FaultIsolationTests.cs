using System.Threading.Channels;
using PdServe.Engine.Generation;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Generation;

/// <summary>
/// A request whose numbers go bad (a poisoned token: NaN embedding row) fails alone with
/// <see cref="RequestFaultException"/>; the requests sharing its batch decode exactly as alone, and its slot is clean for
/// the next occupant. A failed batched step fails the running requests only, as the node's fault.
/// </summary>
public class FaultIsolationTests
{
    private static readonly ModelConfig Config = TinyCheckpoint.LlamaGqa();
    private const int Seed = 7;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly SamplingParams Greedy = new() { Temperature = 0, MaxTokens = 12 };
    /// <summary>Slot 0's request: long enough that every batch view reaches past the short prompts' lengths.</summary>
    private static readonly int[] LongPrompt = TinyModels.RandomTokens(40, Config.VocabSize, 100);
    private static readonly int[][] ShortPrompts = Enumerable.Range(0, 6)
        .Select(i => TinyModels.RandomTokens(9 - i, Config.VocabSize, 102 + i)).ToArray();

    private sealed record Outcome(List<int> Tokens, Exception? Error);

    private static async Task<Outcome> Drain(ChannelReader<GeneratedToken> stream)
    {
        var tokens = new List<int>();
        try
        {
            await foreach (GeneratedToken token in stream.ReadAllAsync().WithCancellation(new CancellationTokenSource(Patience).Token))
                tokens.Add(token.Token.TokenId);
            return new Outcome(tokens, null);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return new Outcome(tokens, error);
        }
    }

    private static List<int> Alone(CausalLm model, int[] prompt, SamplingParams sampling)
    {
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        Outcome outcome = Drain(engine.Submit(new GenerationRequest(prompt, sampling))).GetAwaiter().GetResult();
        Assert.Null(outcome.Error);
        return outcome.Tokens;
    }

    /// <summary>
    /// A 10-token prompt and the clean model's greedy first token after it, which none of the other sequences
    /// contains: a model with that token's embedding set to NaN prefills the prompt normally and emits the token,
    /// the decode step that feeds it yields NaN, and the other sequences never meet it.
    /// </summary>
    private static (int[] Prompt, int Poison) PoisonFor(CausalLm clean, IEnumerable<IReadOnlyList<int>> others)
    {
        var avoid = others.SelectMany(t => t).ToHashSet();
        for (int seed = 200; seed < 300; seed++)
        {
            int[] prompt = TinyModels.RandomTokens(10, Config.VocabSize, seed);
            int poison = Alone(clean, prompt, Greedy with { MaxTokens = 1 })[0];
            if (!avoid.Contains(poison) && !prompt.Contains(poison)) return (prompt, poison);
        }
        throw new InvalidOperationException("no prompt leads to a token the other sequences avoid");
    }

    /// <summary>
    /// An engine whose thread waits in every step report while the gate is closed: a test closes it, submits one
    /// request (the engine stops after its prefill), queues the rest, and opens it, so the rest join one batch.
    /// </summary>
    private sealed class GatedEngine : IDisposable
    {
        private readonly ManualResetEventSlim open = new(true);

        public GatedEngine(CausalLm model, int maxBatchSize)
        {
            Engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions
            {
                MaxBatchSize = maxBatchSize,
                StepCompleted = _ => Assert.True(open.Wait(Patience), "the test never opened the gate"),
            });
        }

        public InferenceEngine Engine { get; }

        /// <summary>Submits <paramref name="first"/> and waits until the engine holds after prefilling it.</summary>
        public ChannelReader<GeneratedToken> HoldAfter(GenerationRequest first)
        {
            open.Reset();
            ChannelReader<GeneratedToken> stream = Engine.Submit(first);
            var deadline = DateTime.UtcNow + Patience;
            while (Engine.RunningCount == 0 && DateTime.UtcNow < deadline) Thread.Sleep(1);
            Assert.Equal(1, Engine.RunningCount);
            return stream;
        }

        public void Open() => open.Set();

        public void Dispose()
        {
            open.Set();
            Engine.Dispose();
            open.Dispose();
        }
    }

    private static CausalLm LoadPoisoned(int poison)
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, Config, Seed, poisonedTokens: [poison]);
        return TinyModels.LoadFrom(directory.Path);
    }

    [Fact]
    public async Task A_sequence_that_turns_non_finite_fails_alone_and_its_slot_is_clean_for_the_next_request()
    {
        using CausalLm clean = TinyModels.Load(Config, Seed);
        var expected = new[] { LongPrompt }.Concat(ShortPrompts).Select(p => Alone(clean, p, Greedy)).ToList();
        (int[] poisonPrompt, int poison) = PoisonFor(clean, new IReadOnlyList<int>[] { LongPrompt }.Concat(ShortPrompts).Concat(expected));
        using CausalLm model = LoadPoisoned(poison);
        using var gated = new GatedEngine(model, maxBatchSize: 8);

        // Slot 0: the long request; slot 1: the poison; slots 2..7: short requests. The poison fails in the first
        // step of the full batch, and the short request from slot 7 moves into its slot while the long one makes
        // every view reach past the NaN it left there.
        var streams = new List<ChannelReader<GeneratedToken>> { gated.HoldAfter(new GenerationRequest(LongPrompt, Greedy)) };
        ChannelReader<GeneratedToken> poisoned = gated.Engine.Submit(new GenerationRequest(poisonPrompt, Greedy));
        streams.AddRange(ShortPrompts.Select(p => gated.Engine.Submit(new GenerationRequest(p, Greedy))));
        gated.Open();

        Outcome poisonOutcome = await Drain(poisoned);
        Outcome[] others = await Task.WhenAll(streams.Select(Drain));

        Assert.Equal([poison], poisonOutcome.Tokens);
        Assert.Equal(Sampler.NonFiniteLogitsMessage, Assert.IsType<RequestFaultException>(poisonOutcome.Error).Message);
        for (int i = 0; i < others.Length; i++)
        {
            Assert.Null(others[i].Error);
            Assert.Equal(expected[i], others[i].Tokens);
        }
        Assert.Equal(0, gated.Engine.RunningCount);

        // The poison's slot again holds a short request beside a long one.
        await AssertSlotOneServesLikeAFreshEngine(gated, clean);
    }

    [Fact]
    public async Task A_prompt_with_non_finite_logits_fails_alone_as_a_request_fault_and_leaves_its_slot_clean()
    {
        using CausalLm clean = TinyModels.Load(Config, Seed);
        int[][] prompts = [LongPrompt, ShortPrompts[0]];
        (int[] poisonPrompt, int poison) = PoisonFor(clean, prompts.Concat<IReadOnlyList<int>>(prompts.Select(p => Alone(clean, p, Greedy))));
        using CausalLm model = LoadPoisoned(poison);
        using var gated = new GatedEngine(model, maxBatchSize: 4);
        int[] poisonedPrompt = [.. poisonPrompt, poison, .. poisonPrompt];

        // n=2: both samples' slots (1 and 2) receive the prompt's NaN KV before its logits are sampled.
        ChannelReader<GeneratedToken> running = gated.HoldAfter(new GenerationRequest(LongPrompt, Greedy));
        ChannelReader<GeneratedToken> poisoned = gated.Engine.Submit(new GenerationRequest(poisonedPrompt, Greedy, SampleCount: 2));
        ChannelReader<GeneratedToken> next = gated.Engine.Submit(new GenerationRequest(ShortPrompts[0], Greedy));
        gated.Open();

        Outcome poisonOutcome = await Drain(poisoned);
        Assert.Empty(poisonOutcome.Tokens);
        Assert.Equal(Sampler.NonFiniteLogitsMessage, Assert.IsType<RequestFaultException>(poisonOutcome.Error).Message);
        Outcome nextOutcome = await Drain(next), runningOutcome = await Drain(running);
        Assert.Null(nextOutcome.Error);
        Assert.Null(runningOutcome.Error);
        Assert.Equal(Alone(clean, ShortPrompts[0], Greedy), nextOutcome.Tokens);
        Assert.Equal(Alone(clean, LongPrompt, Greedy), runningOutcome.Tokens);
        Assert.Equal(0, gated.Engine.RunningCount);
    }

    /// <summary>Runs a long request in slot 0 and a short one in slot 1 and compares both with a fresh engine.</summary>
    private static async Task AssertSlotOneServesLikeAFreshEngine(GatedEngine gated, CausalLm clean)
    {
        ChannelReader<GeneratedToken> first = gated.HoldAfter(new GenerationRequest(LongPrompt, Greedy));
        ChannelReader<GeneratedToken> second = gated.Engine.Submit(new GenerationRequest(ShortPrompts[1], Greedy));
        gated.Open();
        Outcome[] outcomes = await Task.WhenAll(Drain(first), Drain(second));

        using var fresh = new GatedEngine(clean, maxBatchSize: 8);
        ChannelReader<GeneratedToken> freshFirst = fresh.HoldAfter(new GenerationRequest(LongPrompt, Greedy));
        ChannelReader<GeneratedToken> freshSecond = fresh.Engine.Submit(new GenerationRequest(ShortPrompts[1], Greedy));
        fresh.Open();
        Outcome[] expected = await Task.WhenAll(Drain(freshFirst), Drain(freshSecond));

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(expected.Select(o => o.Tokens), outcomes.Select(o => o.Tokens));
    }

    [Fact]
    public async Task Prefilled_kv_with_non_finite_values_fails_that_request_only()
    {
        using CausalLm model = TinyModels.Load(Config, Seed);
        using var engine = new InferenceEngine(model, eosTokenIds: []);
        var request = new GenerationRequest(ShortPrompts[2], Greedy);
        Tensor Kv() => zeros(Config.NumKvHeads, ShortPrompts[2].Length, Config.HeadDim);
        var blocks = model.Plan.RunBlocks.ToDictionary(b => b, _ => (Keys: Kv(), Values: Kv()));
        using (Scalar nan = float.NaN.ToScalar()) blocks[model.Plan.RunBlocks.Last()].Values.narrow(1, 1, 1).fill_(nan);
        var prompt = new PrefilledPrompt(blocks.ToDictionary(p => p.Key, p => (p.Value.Keys, p.Value.Values)), [new SampledToken(5, -1f, [])]);

        Outcome outcome = await Drain(engine.SubmitPrefilled(request, prompt));

        Assert.Empty(outcome.Tokens);
        Assert.IsType<RequestFaultException>(outcome.Error);
        Assert.True(blocks[model.Plan.RunBlocks.First()].Keys.IsInvalid, "the refused KV is freed");
        Assert.Equal(Alone(model, ShortPrompts[2], Greedy), (await Drain(engine.Submit(request))).Tokens);
    }

    [Fact]
    public async Task A_failed_batched_step_fails_the_running_requests_as_the_node_fault_and_the_waiting_ones_still_run()
    {
        using CausalLm model = TinyModels.Load(Config, Seed);
        int decodeSteps = 0;
        using var bothSubmitted = new ManualResetEventSlim();
        // A step report runs inside the step; the engine handles its failure like a failed forward pass.
        using var engine = new InferenceEngine(model, eosTokenIds: [], new EngineOptions
        {
            MaxBatchSize = 1,
            StepCompleted = step =>
            {
                if (step.Kind != EngineStepKind.Decode) return;
                int count = Interlocked.Increment(ref decodeSteps);
                if (count == 1) Assert.True(bothSubmitted.Wait(Patience));
                if (count == 2) throw new InvalidOperationException("the decode step broke");
            },
        });
        // With one slot the second request is queued (taken in before the second step) while the first one's step fails.
        ChannelReader<GeneratedToken> running = engine.Submit(new GenerationRequest(ShortPrompts[3], Greedy));
        ChannelReader<GeneratedToken> waiting = engine.Submit(new GenerationRequest(ShortPrompts[4], Greedy));
        bothSubmitted.Set();

        Outcome failed = await Drain(running), served = await Drain(waiting);

        Assert.Equal("the decode step broke", Assert.IsType<InvalidOperationException>(failed.Error).Message);
        Assert.Null(served.Error);
        Assert.Equal(Alone(model, ShortPrompts[4], Greedy), served.Tokens);
        Assert.Equal(Alone(model, ShortPrompts[3], Greedy), (await Drain(engine.Submit(new GenerationRequest(ShortPrompts[3], Greedy)))).Tokens);
    }
}
