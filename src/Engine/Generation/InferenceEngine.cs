using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PdServe.Engine.Cache;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using static TorchSharp.torch;

namespace PdServe.Engine.Generation;

/// <summary>
/// Continuous batching over one model. A single engine thread owns the model and the KV cache and loops:
/// drop cancelled sequences, prefill waiting prompts into free slots (within a token budget), then run one
/// decode step for every live sequence. Sequences join and leave between steps; live sequences always occupy
/// cache slots 0..B-1 so a step's matrix products and attention run over the whole batch at once.
/// A request that fails on its own (its prompt, its logits) fails alone; a failed batched forward pass fails the
/// running requests, and the waiting ones still run. A request's stream completes only after its slots are freed.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly CausalLm model;
    private readonly KvCache cache;
    private readonly IReadOnlySet<int> eosTokenIds;
    private readonly ConcurrentQueue<PendingRequest> submitted = new();
    private readonly LinkedList<PendingRequest> waiting = new();
    private readonly List<RunningSequence> running = [];
    private readonly AutoResetEvent wake = new(false);
    private readonly Thread loop;
    /// <summary>Guards enqueueing against <see cref="Dispose"/>, so nothing is queued after the final drain.</summary>
    private readonly Lock submitLock = new();
    private volatile bool stopping;

    public InferenceEngine(CausalLm model, IEnumerable<int> eosTokenIds, EngineOptions? options = null)
    {
        this.model = model;
        Options = options ?? new EngineOptions();
        if (Options.MaxBatchSize < 1) throw new ArgumentException("MaxBatchSize must be at least 1");
        MaxContextTokens = Math.Min(Options.MaxContextTokens, model.Config.MaxPositionEmbeddings);
        this.eosTokenIds = eosTokenIds.ToHashSet();
        cache = model.CreateCache(Options.MaxBatchSize, MaxContextTokens);
        loop = new Thread(Run) { IsBackground = true, Name = "pdserve-engine" };
        loop.Start();
    }

    public EngineOptions Options { get; }
    public int MaxContextTokens { get; }
    public CausalLm Model => model;
    /// <summary>
    /// Sequences in the running batch. Changes on the engine thread; a request's stream ends only after its
    /// sequences left this count.
    /// </summary>
    public int RunningCount => Volatile.Read(ref runningCount);
    private int runningCount;

    /// <summary>
    /// Queues a request and returns the stream of its tokens. Throws <see cref="ArgumentException"/> at once for
    /// an invalid request and <see cref="ObjectDisposedException"/> once the engine is disposed (or being disposed).
    /// Cancelling <paramref name="cancellation"/> frees the request's KV before the next step. The stream fails with
    /// <see cref="RequestFaultException"/> when the request itself caused the failure (non-finite logits).
    /// </summary>
    public ChannelReader<GeneratedToken> Submit(GenerationRequest request, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(stopping, this);
        Validate(request);
        return Enqueue(new PendingRequest(request, cancellation));
    }

    /// <summary>
    /// Queues a request whose prompt was prefilled elsewhere: <paramref name="prompt"/> holds the KV of every block
    /// this engine's model runs and one first token per sample; the stream starts with those first tokens. Sample i
    /// continues the random stream of seed + i after its first draw, so a seeded request gives the same tokens as
    /// <see cref="Submit"/> would. The engine owns <paramref name="prompt"/> from here on, also when this throws.
    /// </summary>
    public ChannelReader<GeneratedToken> SubmitPrefilled(GenerationRequest request, PrefilledPrompt prompt,
        CancellationToken cancellation = default)
    {
        try
        {
            ObjectDisposedException.ThrowIf(stopping, this);
            Validate(request);
            ValidatePrefilled(request, prompt);
            return Enqueue(new PendingRequest(request, cancellation, prompt));
        }
        catch
        {
            prompt.Dispose();
            throw;
        }
    }

    private ChannelReader<GeneratedToken> Enqueue(PendingRequest pending)
    {
        CancellationToken cancellation = pending.Cancellation;
        // Registered before the request is visible to the engine thread, which disposes it on completion.
        if (cancellation.CanBeCanceled) pending.WakeOnCancel = cancellation.Register(WakeEngine);
        lock (submitLock)
        {
            if (!stopping)
            {
                submitted.Enqueue(pending);
                wake.Set();
                return pending.Reader;
            }
        }
        pending.WakeOnCancel.Dispose();
        throw new ObjectDisposedException(nameof(InferenceEngine));
    }

    private void WakeEngine()
    {
        try
        {
            wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // The engine stopped first; it already completed every request.
        }
    }

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ChannelReader<GeneratedToken> stream = Submit(request, cancellation);
        await foreach (GeneratedToken token in stream.ReadAllAsync(cancellation)) yield return token;
    }

    private void Validate(GenerationRequest request)
    {
        int vocab = model.Config.VocabSize;
        if (request.PromptTokenIds.Count == 0) throw new ArgumentException("the prompt has no tokens");
        foreach (int id in request.PromptTokenIds)
        {
            if (id < 0 || id >= vocab) throw new ArgumentException($"prompt token id {id} is outside the vocabulary [0, {vocab})");
        }
        if (request.PromptTokenIds.Count >= MaxContextTokens)
            throw new ArgumentException(
                $"the prompt has {request.PromptTokenIds.Count} tokens; this engine's context is {MaxContextTokens} tokens");
        if (request.SampleCount < 1 || request.SampleCount > Options.MaxBatchSize)
            throw new ArgumentException($"n must be between 1 and {Options.MaxBatchSize}, got {request.SampleCount}");
        request.Sampling.Validate(vocab);
    }

    private void ValidatePrefilled(GenerationRequest request, PrefilledPrompt prompt)
    {
        var expected = model.Plan.RunBlocks;
        if (!prompt.Blocks.Order().SequenceEqual(expected))
            throw new ArgumentException($"the prefilled KV holds blocks [{string.Join(',', prompt.Blocks.Order())}]; this model runs [{string.Join(',', expected)}]");
        int promptLength = request.PromptTokenIds.Count;
        foreach (int block in expected)
        {
            (Tensor keys, Tensor values) = prompt[block];
            long[] shape = keys.shape;
            bool valid = shape.Length == 3 && shape[0] == model.Config.NumKvHeads && shape[2] == model.Config.HeadDim
                         && shape[1] >= 1 && shape[1] <= promptLength && values.shape.SequenceEqual(shape)
                         && keys.dtype == ScalarType.Float32 && values.dtype == ScalarType.Float32;
            if (!valid)
                throw new ArgumentException($"block {block}: prefilled keys/values must be float32 [{model.Config.NumKvHeads}, 1..{promptLength}, {model.Config.HeadDim}], got [{string.Join(',', shape)}] {keys.dtype}");
        }
        if (prompt.FirstTokens.Count != request.SampleCount)
            throw new ArgumentException($"{request.SampleCount} samples need {request.SampleCount} first tokens, got {prompt.FirstTokens.Count}");
        foreach (SampledToken token in prompt.FirstTokens)
        {
            if (token.TokenId < 0 || token.TokenId >= model.Config.VocabSize)
                throw new ArgumentException($"first token id {token.TokenId} is outside the vocabulary [0, {model.Config.VocabSize})");
        }
        if (!request.Sampling.IsGreedy && request.Sampling.Seed is null)
            throw new ArgumentException("a prefilled sampled request needs the seed its first tokens were drawn with");
    }

    private void Run()
    {
        if (Options.TorchThreads is { } threads) set_num_threads(threads);
        while (!stopping)
        {
            // Only what was queued before this pass: submitters faster than the engine must not keep it from stepping.
            for (int queued = submitted.Count; queued > 0 && submitted.TryDequeue(out PendingRequest? pending); queued--)
                waiting.AddLast(pending);
            DropCancelled();
            if (waiting.Count == 0 && running.Count == 0)
            {
                wake.WaitOne();
                continue;
            }
            try
            {
                AdmitWaiting();
                if (running.Count > 0) DecodeOnce();
            }
            catch (Exception error)
            {
                // A batched step failed: the node's fault, not one request's. The running requests end with it; the
                // waiting ones were not part of it and still run.
                FailRunning(error);
            }
        }
        var disposed = new ObjectDisposedException(nameof(InferenceEngine));
        FailRunning(disposed);
        foreach (PendingRequest pending in waiting) pending.Complete(disposed);
        waiting.Clear();
    }

    private void DropCancelled()
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

    private void AdmitWaiting()
    {
        int budget = Options.PrefillTokensPerStep;
        bool admittedAny = false;
        while (waiting.First is { } node)
        {
            PendingRequest pending = node.Value;
            // A prompt prefilled elsewhere costs only a copy into the cache.
            int promptLength = pending.Prefilled is null ? pending.Request.PromptTokenIds.Count : 0;
            if (running.Count + pending.Request.SampleCount > Options.MaxBatchSize) break;
            if (admittedAny && promptLength > budget) break;
            waiting.RemoveFirst();
            budget -= promptLength;
            admittedAny = true;
            int firstSlot = running.Count;
            try
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                Prefill(pending);
                if (pending.Prefilled is null)
                    Options.StepCompleted?.Invoke(new EngineStep(EngineStepKind.Prefill, System.Diagnostics.Stopwatch.GetElapsedTime(started), 1));
            }
            catch (Exception error)
            {
                FailPrefill(pending, firstSlot, error);
            }
        }
    }

    /// <summary>
    /// A failure in one prompt fails that request only. Its samples held the top slots from
    /// <paramref name="firstSlot"/>, which may hold partly written or non-finite KV: they are zeroed.
    /// </summary>
    private void FailPrefill(PendingRequest pending, int firstSlot, Exception error)
    {
        Vacate(running.Where(s => s.Request == pending).ToList());
        for (int slot = firstSlot; slot < firstSlot + pending.Request.SampleCount; slot++) cache.Scrub(slot);
        pending.Complete(error);
    }

    private void Prefill(PendingRequest pending)
    {
        GenerationRequest request = pending.Request;
        int firstSlot = running.Count;
        using var scope = NewDisposeScope();
        Tensor? logits = null;
        if (pending.Prefilled is { } prefilled)
        {
            // Non-finite KV would make every later logit of this request non-finite; refuse it before it is cached.
            if (!IsFinite(prefilled))
                throw new RequestFaultException("the prefilled KV of this request holds non-finite values");
            foreach (int block in model.Plan.RunBlocks)
            {
                (Tensor keys, Tensor values) = prefilled[block];
                cache.Write(firstSlot, block, keys, values);
            }
            // The cache holds a copy now; the received tensors need not wait for the request to end.
            prefilled.Dispose();
        }
        else
        {
            logits = model.Prefill(request.PromptTokenIds, cache, firstSlot);
            RetainPolicyPositions(firstSlot, request.PromptTokenIds.Count);
        }
        ulong seed = request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64();
        var samples = new List<RunningSequence>();
        for (int i = 0; i < request.SampleCount; i++)
        {
            // One prefill serves all n samples: each gets a copy of the prompt's KV.
            cache.CopySlot(firstSlot, firstSlot + i);
            var sampler = new SequenceSampler(request.Sampling, unchecked(seed + (ulong)i));
            // The first token was drawn elsewhere from this same seed; later draws continue that stream.
            if (logits is null) sampler.SkipDraw(model.Config.VocabSize);
            var sequence = new RunningSequence(pending, i, sampler) { Slot = firstSlot + i };
            samples.Add(sequence);
            running.Add(sequence);
            PublishRunningCount();
        }
        IReadOnlyList<SampledToken> first = logits is null
            ? pending.Prefilled!.FirstTokens
            : Sampler.Sample(logits.unsqueeze(0).expand(request.SampleCount, -1), samples.Select(s => s.Sampler).ToArray());
        Accept(samples, first);
    }

    private bool IsFinite(PrefilledPrompt prompt) => model.Plan.RunBlocks.All(block =>
    {
        using var scope = NewDisposeScope();
        (Tensor keys, Tensor values) = prompt[block];
        return keys.isfinite().all().item<bool>() && values.isfinite().all().item<bool>();
    });

    /// <summary>Drops the prompt positions the KV policy does not keep, block by block, as a transfer would.</summary>
    private void RetainPolicyPositions(int slot, int promptLength)
    {
        if (Options.PromptKvPolicy is not { } policy) return;
        foreach (int block in model.Plan.RunBlocks)
        {
            if (policy.KeptCount(block, promptLength) < promptLength)
                cache.RetainEntries(slot, block, policy.KeptPositions(block, promptLength));
        }
    }

    private void DecodeOnce()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int batch = running.Count;
        using var scope = NewDisposeScope();
        var tokens = running.Select(s => s.LastToken).ToArray();
        var positions = running.Select(s => s.LastTokenPosition).ToArray();
        Tensor logits = model.DecodeStep(tokens, positions, cache);
        List<RunningSequence> sequences = running.ToList();
        SamplingOutcome[] outcomes = Sampler.SampleEach(logits, sequences.Select(s => s.Sampler).ToArray());
        var failed = new Dictionary<PendingRequest, Exception>();
        for (int i = 0; i < batch; i++)
        {
            if (outcomes[i].Error is { } error) failed.TryAdd(sequences[i].Request, error);
        }
        // Failed requests leave first, before any compaction moves a sequence out of a slot that needs zeroing.
        FailRequests(failed);
        var kept = Enumerable.Range(0, batch).Where(i => !failed.ContainsKey(sequences[i].Request)).ToList();
        Accept(kept.Select(i => sequences[i]).ToList(), kept.Select(i => outcomes[i].Token!).ToList());
        Options.StepCompleted?.Invoke(new EngineStep(EngineStepKind.Decode, System.Diagnostics.Stopwatch.GetElapsedTime(started), batch));
    }

    /// <summary>Records each sequence's new token, streams it, and releases the sequences that finished.</summary>
    private void Accept(IReadOnlyList<RunningSequence> sequences, IReadOnlyList<SampledToken> sampled)
    {
        var finished = new List<RunningSequence>();
        for (int i = 0; i < sequences.Count; i++)
        {
            RunningSequence sequence = sequences[i];
            SampledToken token = sampled[i];
            sequence.LastToken = token.TokenId;
            sequence.GeneratedCount++;
            FinishReason? finish = FinishOf(sequence, token.TokenId);
            sequence.Request.Emit(new GeneratedToken(sequence.SampleIndex, token, finish));
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
        if (sequence.LastTokenPosition + 1 >= MaxContextTokens) return FinishReason.Length;
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
        foreach (RunningSequence sequence in leaving) cache.Scrub(sequence.Slot);
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
            cache.Clear(sequence.Slot);
            sequence.Dispose();
            if (--sequence.Request.UnfinishedSamples == 0) done.Add(sequence.Request);
        }
        int liveCount = running.Count;
        var occupied = running.Select(s => s.Slot).ToHashSet();
        var holes = new Queue<int>(Enumerable.Range(0, liveCount).Where(slot => !occupied.Contains(slot)));
        foreach (RunningSequence sequence in running.Where(s => s.Slot >= liveCount).ToList())
        {
            int hole = holes.Dequeue();
            cache.CopySlot(sequence.Slot, hole);
            cache.Clear(sequence.Slot);
            sequence.Slot = hole;
        }
        running.Sort((a, b) => a.Slot.CompareTo(b.Slot));
        PublishRunningCount();
        return done;
    }

    /// <summary>Ends every running request with <paramref name="error"/>, after freeing all slots.</summary>
    private void FailRunning(Exception error)
    {
        List<PendingRequest> requests = running.Select(s => s.Request).Distinct().ToList();
        foreach (RunningSequence sequence in running)
        {
            cache.Clear(sequence.Slot);
            sequence.Dispose();
        }
        running.Clear();
        PublishRunningCount();
        foreach (PendingRequest pending in requests) pending.Complete(error);
    }

    private void PublishRunningCount() => Volatile.Write(ref runningCount, running.Count);

    public void Dispose()
    {
        lock (submitLock)
        {
            if (stopping) return;
            stopping = true;
            wake.Set();
        }
        loop.Join();
        while (submitted.TryDequeue(out PendingRequest? pending)) pending.Complete(new ObjectDisposedException(nameof(InferenceEngine)));
        cache.Dispose();
        wake.Dispose();
    }
}
