using System.Threading.Channels;
using PdServe.Engine.Generation;
using PdServe.Engine.Sampling;

namespace PdServe.Engine.Tests.Generation;

/// <summary>
/// The scheduler alone, without a model: which requests it admits, where their samples sit, and the slot moves it
/// orders when sequences leave or fail (recorded by a fake slot store instead of a KV cache).
/// </summary>
public sealed class BatchSchedulerTests
{
    private sealed class RecordedSlots : IKvSlots
    {
        public List<string> Calls { get; } = [];
        public void Free(int slot) => Calls.Add($"free {slot}");
        public void Move(int from, int to) => Calls.Add($"move {from}->{to}");
        public void Scrub(int slot) => Calls.Add($"scrub {slot}");
    }

    private static readonly SampledToken Token = new(7, -0.5f, []);

    private static PendingRequest Request(int promptTokens, int samples = 1, int maxTokens = 5) =>
        new(new GenerationRequest(Enumerable.Range(1, promptTokens).ToArray(), new SamplingParams { Temperature = 0, MaxTokens = maxTokens }, samples),
            CancellationToken.None);

    private static BatchScheduler Scheduler(RecordedSlots slots, int maxBatch = 4, int prefillTokens = 10) =>
        new(slots, new EngineOptions { MaxBatchSize = maxBatch, PrefillTokensPerStep = prefillTokens }, maxContextTokens: 64, eosTokenIds: new HashSet<int>());

    /// <summary>Admits and joins everything the scheduler lets in this pass.</summary>
    private static List<JoiningRequest> AdmitAll(BatchScheduler scheduler, params PendingRequest[] requests)
    {
        foreach (PendingRequest request in requests) scheduler.Submit(request);
        scheduler.TakeSubmitted();
        var admitted = new List<JoiningRequest>();
        foreach (JoiningRequest joining in scheduler.Admit())
        {
            scheduler.Join(joining, Enumerable.Repeat(Token, joining.Samples.Count).ToList(), null);
            admitted.Add(joining);
        }
        return admitted;
    }

    private static List<GeneratedToken> Received(PendingRequest request, out Exception? end)
    {
        var tokens = new List<GeneratedToken>();
        while (request.Reader.TryRead(out GeneratedToken? token)) tokens.Add(token);
        end = request.Reader.Completion.IsFaulted ? request.Reader.Completion.Exception!.InnerException : null;
        return tokens;
    }

    [Fact]
    public void Admission_stops_at_the_batch_size_and_the_prefill_budget()
    {
        var slots = new RecordedSlots();
        BatchScheduler scheduler = Scheduler(slots, maxBatch: 4, prefillTokens: 10);
        PendingRequest a = Request(8), b = Request(2, samples: 2), c = Request(1, samples: 2);

        List<JoiningRequest> admitted = AdmitAll(scheduler, a, b, c);

        // a fits the budget (10 → 2) and b exactly (2 → 0); c's two samples would make the batch 5.
        Assert.Equal([a, b], admitted.Select(j => j.Request));
        Assert.Equal([0, 1], admitted.Select(j => j.FirstSlot));
        Assert.Equal([0, 1, 2], scheduler.Batch().Select(s => s.Slot));
        Assert.Equal(3, scheduler.RunningCount);
        Assert.Empty(slots.Calls);
        Assert.False(scheduler.IsIdle);
    }

    [Fact]
    public void The_first_waiting_prompt_is_admitted_whatever_its_length()
    {
        BatchScheduler scheduler = Scheduler(new RecordedSlots(), prefillTokens: 10);
        PendingRequest longPrompt = Request(30), next = Request(1);
        Assert.Equal([longPrompt], AdmitAll(scheduler, longPrompt, next).Select(j => j.Request));
    }

    [Fact]
    public void A_finished_sequence_leaves_and_the_highest_slot_moves_into_its_hole()
    {
        var slots = new RecordedSlots();
        BatchScheduler scheduler = Scheduler(slots);
        PendingRequest a = Request(1), b = Request(1, maxTokens: 2), c = Request(1);
        AdmitAll(scheduler, a, b, c);

        IReadOnlyList<RunningSequence> batch = scheduler.Batch();
        scheduler.Advance(batch, batch.Select(_ => SamplingOutcome.Of(Token)).ToArray());

        Assert.Equal(["free 1", "move 2->1"], slots.Calls);
        Assert.Equal([(a, 0), (c, 1)], scheduler.Batch().Select(s => (s.Request, s.Slot)));
        Assert.Equal(2, Received(b, out Exception? end).Count);
        Assert.Null(end);
        Assert.True(b.Reader.Completion.IsCompletedSuccessfully);
        Assert.False(a.Reader.Completion.IsCompleted);
    }

    [Fact]
    public void A_row_that_cannot_be_sampled_fails_its_request_alone_after_its_slot_is_scrubbed()
    {
        var slots = new RecordedSlots();
        BatchScheduler scheduler = Scheduler(slots);
        PendingRequest a = Request(1), b = Request(1, samples: 2), c = Request(1);
        AdmitAll(scheduler, a, b, c);
        var fault = new RequestFaultException(Sampler.NonFiniteLogitsMessage);

        IReadOnlyList<RunningSequence> batch = scheduler.Batch();
        // Only b's first sample fails; its second sample leaves with it.
        scheduler.Advance(batch, [SamplingOutcome.Of(Token), SamplingOutcome.Failed(fault), SamplingOutcome.Of(Token), SamplingOutcome.Of(Token)]);

        Assert.Equal(["scrub 1", "scrub 2", "free 1", "free 2", "move 3->1"], slots.Calls);
        Assert.Equal([(a, 0), (c, 1)], scheduler.Batch().Select(s => (s.Request, s.Slot)));
        Assert.Equal(2, Received(b, out Exception? end).Count); // the first token of each sample, then the error
        Assert.Same(fault, end);
        Assert.Equal(2, Received(a, out _).Count);
        Assert.Equal(2, Received(c, out _).Count);
    }
}
