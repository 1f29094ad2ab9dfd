using System.Collections.Concurrent;
using PdServe.Engine.Sampling;

namespace PdServe.Engine.Generation;

/// <summary>
/// Who runs next, and the bookkeeping after each run: submitted requests queue here, wait for room in the batch,
/// are seated on free slots for prefill, join the running batch, and leave it when they finish, are cancelled or
/// fail. Live sequences always occupy slots 0..B-1, so a decode step runs over the first B slots of the cache.
/// A request that fails on its own fails alone; its slots are scrubbed before its stream ends, and a request's
/// stream ends only after its slots are free. Engine thread only, except <see cref="Submit"/> and
/// <see cref="RunningCount"/>.
/// </summary>
internal sealed class BatchScheduler(IKvSlots slots, EngineOptions options, int maxContextTokens, IReadOnlySet<int> eosTokenIds)
{
    private readonly ConcurrentQueue<PendingRequest> submitted = new();
    private readonly LinkedList<PendingRequest> waiting = new();
    private readonly List<RunningSequence> running = [];
    private int runningCount;

    /// <summary>Sequences in the running batch, as last published by the engine thread (any thread may read it).</summary>
    public int RunningCount => Volatile.Read(ref runningCount);

    public bool IsIdle => waiting.Count == 0 && running.Count == 0;

    /// <summary>The running batch in slot order: sequence b decodes from slot b.</summary>
    public IReadOnlyList<RunningSequence> Batch() => running.ToList();

    /// <summary>Queues a request from any thread; the engine thread picks it up on its next pass.</summary>
    public void Submit(PendingRequest pending) => submitted.Enqueue(pending);

    /// <summary>
    /// Moves what was queued before this pass to the waiting line: submitters faster than the engine must not keep
    /// it from stepping.
    /// </summary>
    public void TakeSubmitted()
    {
        for (int queued = submitted.Count; queued > 0 && submitted.TryDequeue(out PendingRequest? pending); queued--)
            waiting.AddLast(pending);
    }

    /// <summary>Ends cancelled requests: waiting ones at once, running ones after their slots are free.</summary>
    public void DropCancelled()
    {
        for (var node = waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.IsCancelled)
            {
                node.Value.Complete();
                waiting.Remove(node);
            }
            node = next;
        }
        Release(running.Where(s => s.Request.IsCancelled).ToList());
    }

    /// <summary>
    /// Admits waiting requests in order while the batch has slots for all their samples, within
    /// <see cref="EngineOptions.PrefillTokensPerStep"/> prompt tokens (the first one whatever its length). Lazily: each
    /// request is seated only after the previous one joined or failed, so its room counts the batch as it is then.
    /// </summary>
    public IEnumerable<JoiningRequest> Admit()
    {
        int budget = options.PrefillTokensPerStep;
        bool admittedAny = false;
        while (waiting.First is { } node)
        {
            PendingRequest pending = node.Value;
            // A prompt prefilled elsewhere costs only a copy into the cache.
            int promptLength = pending.Prefilled is null ? pending.Request.PromptTokenIds.Count : 0;
            if (running.Count + pending.Request.SampleCount > options.MaxBatchSize) yield break;
            if (admittedAny && promptLength > budget) yield break;
            waiting.RemoveFirst();
            budget -= promptLength;
            admittedAny = true;
            yield return Seat(pending);
        }
    }

    /// <summary>One sequence per sample on the slots after the running batch, each with its own random stream.</summary>
    private JoiningRequest Seat(PendingRequest pending)
    {
        GenerationRequest request = pending.Request;
        int firstSlot = running.Count;
        ulong seed = request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64();
        var samples = new RunningSequence[request.SampleCount];
        for (int i = 0; i < samples.Length; i++)
            samples[i] = new RunningSequence(pending, i, new SequenceSampler(request.Sampling, unchecked(seed + (ulong)i))) { Slot = firstSlot + i };
        return new JoiningRequest(pending, firstSlot, samples);
    }

    /// <summary>The prefilled samples join the running batch with their first tokens; those already finished leave.</summary>
    public void Join(JoiningRequest joining, IReadOnlyList<SampledToken> firstTokens, IReadOnlyList<PromptTokenScore>? promptScores)
    {
        running.AddRange(joining.Samples);
        PublishRunningCount();
        Accept(joining.Samples, firstTokens, promptScores);
    }

    /// <summary>
    /// A failure in one prompt fails that request only. Its samples held the slots from
    /// <see cref="JoiningRequest.FirstSlot"/>, which may hold partly written or non-finite KV: they are zeroed.
    /// </summary>
    public void FailPrefill(JoiningRequest joining, Exception error)
    {
        PendingRequest pending = joining.Request;
        foreach (RunningSequence sample in joining.Samples.Where(s => !running.Contains(s))) sample.Dispose();
        Vacate(running.Where(s => s.Request == pending).ToList());
        for (int slot = joining.FirstSlot; slot < joining.FirstSlot + pending.Request.SampleCount; slot++) slots.Scrub(slot);
        pending.Complete(error);
    }

    /// <summary>
    /// After a decode step over <paramref name="batch"/>: requests with a row that could not be sampled fail with all
    /// their samples; every other sequence takes its new token.
    /// </summary>
    public void Advance(IReadOnlyList<RunningSequence> batch, IReadOnlyList<SamplingOutcome> outcomes)
    {
        var failed = new Dictionary<PendingRequest, Exception>();
        for (int i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Error is { } error) failed.TryAdd(batch[i].Request, error);
        }
        // Failed requests leave first, before any compaction moves a sequence out of a slot that needs zeroing.
        FailRequests(failed);
        var kept = Enumerable.Range(0, batch.Count).Where(i => !failed.ContainsKey(batch[i].Request)).ToList();
        Accept(kept.Select(i => batch[i]).ToList(), kept.Select(i => outcomes[i].Token!).ToList());
    }

    /// <summary>Records each sequence's new token, streams it, and releases the sequences that finished.</summary>
    private void Accept(IReadOnlyList<RunningSequence> sequences, IReadOnlyList<SampledToken> sampled,
        IReadOnlyList<PromptTokenScore>? promptScores = null)
    {
        var finished = new List<RunningSequence>();
        for (int i = 0; i < sequences.Count; i++)
        {
            RunningSequence sequence = sequences[i];
            SampledToken token = sampled[i];
            sequence.LastToken = token.TokenId;
            sequence.GeneratedCount++;
            FinishReason? finish = FinishOf(sequence, token.TokenId);
            sequence.Request.Emit(new GeneratedToken(sequence.SampleIndex, token, finish, promptScores));
            if (finish is not null) finished.Add(sequence);
        }
        Release(finished);
    }

    private FinishReason? FinishOf(RunningSequence sequence, int token)
    {
        SamplingParams sampling = sequence.Request.Request.Sampling;
        if (!sampling.IgnoreEos && eosTokenIds.Contains(token)) return FinishReason.Stop;
        if (sampling.StopTokenIds.Contains(token)) return FinishReason.Stop;
        if (sequence.GeneratedCount >= sampling.MaxTokens) return FinishReason.Length;
        // The next step would feed this token at LastTokenPosition; it needs a cache entry there.
        if (sequence.LastTokenPosition + 1 >= maxContextTokens) return FinishReason.Length;
        return null;
    }

    /// <summary>Frees the sequences' slots, then completes the requests that have no sample left.</summary>
    private void Release(IReadOnlyCollection<RunningSequence> leaving)
    {
        foreach (PendingRequest done in Vacate(leaving)) done.Complete();
    }

    /// <summary>
    /// Ends requests that failed on their own, with all their samples: their slots are zeroed (their KV may be
    /// non-finite) and freed before their streams complete with the error.
    /// </summary>
    private void FailRequests(IReadOnlyDictionary<PendingRequest, Exception> failed)
    {
        if (failed.Count == 0) return;
        List<RunningSequence> leaving = running.Where(s => failed.ContainsKey(s.Request)).ToList();
        foreach (RunningSequence sequence in leaving) slots.Scrub(sequence.Slot);
        Vacate(leaving);
        foreach ((PendingRequest request, Exception error) in failed) request.Complete(error);
    }

    /// <summary>
    /// Frees the sequences' slots, moves the highest live slots into the holes to keep 0..B-1 dense, and publishes
    /// the running count; returns the requests whose last sample left, for the caller to complete afterwards.
    /// </summary>
    private List<PendingRequest> Vacate(IReadOnlyCollection<RunningSequence> leaving)
    {
        var done = new List<PendingRequest>();
        if (leaving.Count == 0) return done;
        foreach (RunningSequence sequence in leaving)
        {
            running.Remove(sequence);
            slots.Free(sequence.Slot);
            sequence.Dispose();
            if (--sequence.Request.UnfinishedSamples == 0) done.Add(sequence.Request);
        }
        int liveCount = running.Count;
        var occupied = running.Select(s => s.Slot).ToHashSet();
        var holes = new Queue<int>(Enumerable.Range(0, liveCount).Where(slot => !occupied.Contains(slot)));
        foreach (RunningSequence sequence in running.Where(s => s.Slot >= liveCount).ToList())
        {
            int hole = holes.Dequeue();
            slots.Move(sequence.Slot, hole);
            sequence.Slot = hole;
        }
        running.Sort((a, b) => a.Slot.CompareTo(b.Slot));
        PublishRunningCount();
        return done;
    }

    /// <summary>Ends every running request with <paramref name="error"/>, after freeing all slots.</summary>
    public void FailRunning(Exception error)
    {
        List<PendingRequest> requests = running.Select(s => s.Request).Distinct().ToList();
        foreach (RunningSequence sequence in running)
        {
            slots.Free(sequence.Slot);
            sequence.Dispose();
        }
        running.Clear();
        PublishRunningCount();
        foreach (PendingRequest pending in requests) pending.Complete(error);
    }

    /// <summary>The engine stops: every running and waiting request ends with <paramref name="error"/>.</summary>
    public void FailAll(Exception error)
    {
        FailRunning(error);
        foreach (PendingRequest pending in waiting) pending.Complete(error);
        waiting.Clear();
    }

    /// <summary>Takes what is still queued once the engine thread has stopped, for the caller to complete.</summary>
    public IEnumerable<PendingRequest> TakeLeftover()
    {
        while (submitted.TryDequeue(out PendingRequest? pending)) yield return pending;
    }

    private void PublishRunningCount() => Volatile.Write(ref runningCount, running.Count);
}
