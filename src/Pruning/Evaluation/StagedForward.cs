using PdServe.Engine.Model;
using PdServe.Engine.Planning;
using static TorchSharp.torch;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// Scores text as a disaggregated deployment runs it, on one unpruned model held in memory: the prompt goes through
/// the prefill stage's blocks, which produce the first continuation token's logits and every run block's KV; the
/// decode stage's blocks then read that KV — cut to the kept positions in the KV policy's selected layers, as the
/// decode node receives it — and score the rest of the continuation teacher-forced, in one pass. Equal to
/// Prefill, RetainEntries and one DecodeStep per token on separately loaded stage models (see the tests). A
/// configuration with healed stage weights (<see cref="StagedPruning.Models"/>) runs each stage on its own weights.
/// With <paramref name="trackGradients"/>, the passes build the autograd graph (healing trains through them).
/// </summary>
public sealed class StagedForward(CausalLm model, bool trackGradients = false)
{
    public CausalLm Model { get; } = model;

    /// <summary>The prefill stage over prompts [B, n] (positions 0..n-1).</summary>
    public PromptPass RunPrompt(Tensor promptIds, IReadOnlySet<int> prefillSkip, CausalLm? stageModel = null)
    {
        var kv = new Dictionary<int, BlockKv>();
        Tensor logits = (stageModel ?? Model).ForwardPass(promptIds, new SequencePass
        {
            TrackGradients = trackGradients,
            SkippedBlocks = prefillSkip,
            OnBlock = activity => kv[activity.Block] = new BlockKv(
                activity.Keys.clone().DetachFromDisposeScope(), activity.Values.clone().DetachFromDisposeScope()),
        });
        return new PromptPass(logits.DetachFromDisposeScope(), kv);
    }

    /// <summary>
    /// The decode stage over continuation inputs [B, c] at positions n..n+c-1, reading the prompt's KV through
    /// <paramref name="kvPolicy"/>. Returns logits [B, c, vocab]: position i predicts the token after input i.
    /// </summary>
    public Tensor RunContinuation(Tensor continuationIds, PromptPass prompt, IReadOnlySet<int> decodeSkip, KvPolicy kvPolicy,
        CausalLm? stageModel = null)
    {
        using var scope = NewDisposeScope();
        CausalLm decode = stageModel ?? Model;
        int promptLength = prompt.PromptLength;
        var prefix = new Dictionary<int, BlockKv>();
        foreach (DecoderBlock block in decode.Blocks)
        {
            if (decodeSkip.Contains(block.Index)) continue;
            if (!prompt.Kv.TryGetValue(block.Index, out BlockKv? kv))
                throw new ArgumentException($"decode runs block {block.Index} but the prefill stage skipped it: prefill_skip must be a subset of decode_skip");
            if (kvPolicy.KeptCount(block.Index, promptLength) == promptLength)
            {
                prefix[block.Index] = kv;
                continue;
            }
            Tensor kept = tensor(kvPolicy.KeptPositions(block.Index, promptLength).Select(p => (long)p).ToArray());
            prefix[block.Index] = new BlockKv(kv.Keys.index_select(2, kept), kv.Values.index_select(2, kept));
        }
        return decode.ForwardPass(continuationIds, new SequencePass
        {
            TrackGradients = trackGradients,
            StartPosition = promptLength,
            SkippedBlocks = decodeSkip,
            PrefixKv = prefix,
        }).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits [B, W - n, vocab] for the continuation tokens of windows [B, W] split after <paramref name="promptLength"/>
    /// tokens: the first from the prefill stage's last position, the others from the decode stage.
    /// </summary>
    public Tensor ContinuationLogits(Tensor windows, int promptLength, StagedPruning pruning)
    {
        using var scope = NewDisposeScope();
        int width = (int)windows.shape[1];
        if (promptLength < 1 || promptLength >= width)
            throw new ArgumentOutOfRangeException(nameof(promptLength), $"the prompt must leave 1..{width - 1} tokens of a {width}-token window");
        using PromptPass prompt = RunPrompt(windows.narrow(1, 0, promptLength), pruning.PrefillSkip, pruning.Models?.Prefill);
        Tensor first = prompt.Logits.narrow(1, promptLength - 1, 1);
        if (width - promptLength == 1) return first.clone().MoveToOuterDisposeScope();
        Tensor rest = RunContinuation(windows.narrow(1, promptLength, width - promptLength - 1), prompt, pruning.DecodeSkip, pruning.Kv,
            pruning.Models?.Decode);
        return cat([first, rest], 1).MoveToOuterDisposeScope();
    }
}
