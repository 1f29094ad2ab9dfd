using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;

namespace PdServe.Engine.Generation;

/// <summary>
/// Continuous batching over one model. A single engine thread owns the model and the KV cache and loops, as
/// nano-vllm's engine does: schedule (take what was queued, drop cancelled sequences, admit waiting prompts into free
/// slots within a token budget), run (the <see cref="ModelRunner"/> prefills each admitted prompt, then takes one
/// decode step for every live sequence), postprocess (the <see cref="BatchScheduler"/> streams the new tokens and lets
/// finished sequences leave). Sequences join and leave between steps.
/// A request that fails on its own (its prompt, its logits) fails alone; a failed batched forward pass fails the
/// running requests, and the waiting ones still run. A request's stream completes only after its slots are freed.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly RequestValidator validator;
    private readonly ModelRunner runner;
    private readonly BatchScheduler scheduler;
    private readonly AutoResetEvent wake = new(false);
    private readonly Thread loop;
    /// <summary>Guards enqueueing against <see cref="Dispose"/>, so nothing is queued after the final drain.</summary>
    private readonly Lock submitLock = new();
    private volatile bool stopping;

    public InferenceEngine(CausalLm model, IEnumerable<int> eosTokenIds, EngineOptions? options = null)
    {
        Model = model;
        Options = options ?? new EngineOptions();
        if (Options.MaxBatchSize < 1) throw new ArgumentException("MaxBatchSize must be at least 1");
        MaxContextTokens = Math.Min(Options.MaxContextTokens, model.Config.MaxPositionEmbeddings);
        validator = new RequestValidator(model, MaxContextTokens, Options.MaxBatchSize);
        runner = new ModelRunner(model, Options, MaxContextTokens);
        scheduler = new BatchScheduler(runner, Options, MaxContextTokens, eosTokenIds.ToHashSet());
        loop = new Thread(Run) { IsBackground = true, Name = "pdserve-engine" };
        loop.Start();
    }

    public EngineOptions Options { get; }
    public int MaxContextTokens { get; }
    public CausalLm Model { get; }
    /// <summary>
    /// Sequences in the running batch. Changes on the engine thread; a request's stream ends only after its
    /// sequences left this count.
    /// </summary>
    public int RunningCount => scheduler.RunningCount;

    /// <summary>
    /// Queues a request and returns the stream of its tokens. Throws <see cref="ArgumentException"/> at once for
    /// an invalid request and <see cref="ObjectDisposedException"/> once the engine is disposed (or being disposed).
    /// Cancelling <paramref name="cancellation"/> frees the request's KV before the next step. The stream fails with
    /// <see cref="RequestFaultException"/> when the request itself caused the failure (non-finite logits).
    /// </summary>
    public ChannelReader<GeneratedToken> Submit(GenerationRequest request, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(stopping, this);
        validator.Validate(request);
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
            validator.Validate(request);
            validator.ValidatePrefilled(request, prompt);
            return Enqueue(new PendingRequest(request, cancellation, prompt));
        }
        catch
        {
            prompt.Dispose();
            throw;
        }
    }

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ChannelReader<GeneratedToken> stream = Submit(request, cancellation);
        await foreach (GeneratedToken token in stream.ReadAllAsync(cancellation)) yield return token;
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
                scheduler.Submit(pending);
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

    /// <summary>The engine thread: one pass per iteration, asleep while nothing waits or runs.</summary>
    private void Run()
    {
        runner.ConfigureEngineThread();
        while (!stopping)
        {
            scheduler.TakeSubmitted();
            scheduler.DropCancelled();
            if (scheduler.IsIdle)
            {
                wake.WaitOne();
                continue;
            }
            try
            {
                foreach (JoiningRequest joining in scheduler.Admit()) Prefill(joining);
                IReadOnlyList<RunningSequence> batch = scheduler.Batch();
                if (batch.Count > 0) Decode(batch);
            }
            catch (Exception error)
            {
                // A batched step failed: the node's fault, not one request's. The running requests end with it; the
                // waiting ones were not part of it and still run.
                scheduler.FailRunning(error);
            }
        }
        scheduler.FailAll(new ObjectDisposedException(nameof(InferenceEngine)));
    }

    /// <summary>Run → postprocess for one admitted prompt; its failure is its own.</summary>
    private void Prefill(JoiningRequest joining)
    {
        try
        {
            long started = Stopwatch.GetTimestamp();
            IReadOnlyList<SampledToken> firstTokens = runner.Prefill(joining, out IReadOnlyList<PromptTokenScore>? promptScores);
            scheduler.Join(joining, firstTokens, promptScores);
            if (joining.Request.Prefilled is null)
                Options.StepCompleted?.Invoke(new EngineStep(EngineStepKind.Prefill, Stopwatch.GetElapsedTime(started), 1));
        }
        catch (Exception error)
        {
            scheduler.FailPrefill(joining, error);
        }
    }

    /// <summary>Run → postprocess for the running batch: one decode step, then each sequence's new token.</summary>
    private void Decode(IReadOnlyList<RunningSequence> batch)
    {
        long started = Stopwatch.GetTimestamp();
        SamplingOutcome[] outcomes = runner.Decode(batch);
        scheduler.Advance(batch, outcomes);
        Options.StepCompleted?.Invoke(new EngineStep(EngineStepKind.Decode, Stopwatch.GetElapsedTime(started), batch.Count));
    }

    public void Dispose()
    {
        lock (submitLock)
        {
            if (stopping) return;
            stopping = true;
            wake.Set();
        }
        loop.Join();
        foreach (PendingRequest pending in scheduler.TakeLeftover()) pending.Complete(new ObjectDisposedException(nameof(InferenceEngine)));
        runner.Dispose();
        wake.Dispose();
    }
}
