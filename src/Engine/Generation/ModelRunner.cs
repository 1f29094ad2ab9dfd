using PdServe.Engine.Cache;
using PdServe.Engine.FastPath;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using static TorchSharp.torch;

namespace PdServe.Engine.Generation;

/// <summary>
/// Runs the model on what the scheduler decided: fills a joining request's KV (a local prefill, or the KV a prefill
/// node sent) and draws its first tokens, and runs one decode step over the running batch, sampling every row on
/// its own. Owns the KV cache and carries out the scheduler's slot moves. Engine thread only.
/// </summary>
internal sealed class ModelRunner : IKvSlots, IDisposable
{
    private readonly CausalLm model;
    private readonly EngineOptions options;
    private readonly KvCache cache;
    private readonly FastDecoder? fast;

    public ModelRunner(CausalLm model, EngineOptions options, int maxContextTokens)
    {
        this.model = model;
        this.options = options;
        cache = model.CreateCache(options.MaxBatchSize, maxContextTokens);
        if (options.DecodeKernel == DecodeKernel.Fast)
            fast = new FastDecoder(model, options.MaxBatchSize, options.TorchThreads ?? 1, options.FastWeights);
    }

    /// <summary>Torch's intra-op thread count is per OS thread: called first on the engine thread.</summary>
    public void ConfigureEngineThread()
    {
        if (options.TorchThreads is { } threads) set_num_threads(threads);
    }

    /// <summary>
    /// Writes the prompt's KV into the first sample's slot and copies it to the others (one prefill serves all n
    /// samples); returns each sample's first token. A prompt prefilled elsewhere brings first tokens drawn there from
    /// the same seeds, so each sample's random stream skips that draw and continues as a local prefill's would.
    /// <paramref name="promptScores"/> are the prompt's scores when the request asked for them (computed here, or
    /// received with the KV).
    /// </summary>
    public IReadOnlyList<SampledToken> Prefill(JoiningRequest joining, out IReadOnlyList<PromptTokenScore>? promptScores)
    {
        IReadOnlyList<RunningSequence> samples = joining.Samples;
        using var scope = NewDisposeScope();
        if (joining.Request.Prefilled is { } prefilled)
        {
            promptScores = prefilled.PromptScores;
            WriteReceivedKv(prefilled, joining.FirstSlot);
            ForkPrompt(joining);
            foreach (RunningSequence sample in samples) sample.Sampler.SkipDraw(model.Config.VocabSize);
            return prefilled.FirstTokens;
        }
        IReadOnlyList<int> prompt = joining.Request.Request.PromptTokenIds;
        PromptScoring? scoring = joining.Request.Request.Sampling.PromptLogprobs is { } top ? new PromptScoring(top) : null;
        Tensor logits = model.Prefill(prompt, cache, joining.FirstSlot, scoring: scoring);
        promptScores = scoring?.Scores;
        RetainPolicyPositions(joining.FirstSlot, prompt.Count);
        ForkPrompt(joining);
        return Sampler.Sample(logits.unsqueeze(0).expand(samples.Count, -1), samples.Select(s => s.Sampler).ToArray());
    }

    private void WriteReceivedKv(PrefilledPrompt prefilled, int slot)
    {
        // Non-finite KV would make every later logit of this request non-finite; refuse it before it is cached.
        if (!IsFinite(prefilled))
            throw new RequestFaultException("the prefilled KV of this request holds non-finite values");
        foreach (int block in model.Plan.RunBlocks)
        {
            (Tensor keys, Tensor values) = prefilled[block];
            cache.Write(slot, block, keys, values);
        }
        // The cache holds a copy now; the received tensors need not wait for the request to end.
        prefilled.Dispose();
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
        if (options.PromptKvPolicy is not { } policy) return;
        foreach (int block in model.Plan.RunBlocks)
        {
            if (policy.KeptCount(block, promptLength) < promptLength)
                cache.RetainEntries(slot, block, policy.KeptPositions(block, promptLength));
        }
    }

    private void ForkPrompt(JoiningRequest joining)
    {
        foreach (RunningSequence sample in joining.Samples) cache.CopySlot(joining.FirstSlot, sample.Slot);
    }

    /// <summary>
    /// One decode step over the running batch (sequence b in slot b): each sequence's last token goes in at its
    /// position, and every row is sampled on its own, so a row that cannot be sampled fails only its own request.
    /// </summary>
    public SamplingOutcome[] Decode(IReadOnlyList<RunningSequence> batch)
    {
        using var scope = NewDisposeScope();
        int[] tokens = batch.Select(s => s.LastToken).ToArray();
        int[] positions = batch.Select(s => s.LastTokenPosition).ToArray();
        Tensor logits = DecodeLogits(tokens, positions);
        return Sampler.SampleEach(logits, batch.Select(s => s.Sampler).ToArray());
    }

    /// <summary>
    /// The forward pass of one decode step: fp32 logits [B, vocab] for token b at position b of slot b, with every
    /// token's KV appended to its slot. The seam for a faster decode kernel: the engine's decode steps all go through here.
    /// </summary>
    private Tensor DecodeLogits(int[] tokens, int[] positions) =>
        fast is not null ? fast.Step(tokens, positions, cache) : model.DecodeStep(tokens, positions, cache);

    public void Free(int slot) => cache.Clear(slot);

    public void Move(int from, int to)
    {
        cache.CopySlot(from, to);
        cache.Clear(from);
    }

    public void Scrub(int slot) => cache.Scrub(slot);

    public void Dispose()
    {
        fast?.Dispose();
        cache.Dispose();
    }
}
