using PdServe.Engine;
using PdServe.Training.Corpus;
using static TorchSharp.torch;

namespace PdServe.Pruning.Evaluation;

/// <summary>
/// Scores configurations of one loaded (unpruned) model on held-out text: the documents are encoded (BOS, tokens,
/// EOS each) into one stream, cut into windows of the model's context, and every window is split into a prompt and
/// a continuation whose tokens are scored as the stages would produce them (<see cref="StagedForward"/>). The
/// unpruned model runs on the same windows as the reference for agreement and KL.
/// </summary>
public sealed class Evaluator(LoadedModel model, EvaluationOptions options)
{
    private readonly StagedForward forward = new(model.Model);

    /// <summary>The windows the options cut from <paramref name="data"/>, and the prompt length within each.</summary>
    public (IReadOnlyList<int[]> Windows, int PromptTokens) Windows(TextDocuments data)
    {
        int window = options.WindowTokens ?? model.Model.Config.MaxPositionEmbeddings;
        if (window > model.Model.Config.MaxPositionEmbeddings)
            throw new PruningInputException($"windows of {window} tokens exceed the model's context of {model.Model.Config.MaxPositionEmbeddings}");
        int prompt = options.PromptTokens ?? window / 2;
        if (prompt < 1 || prompt >= window)
            throw new PruningInputException($"the prompt length must be between 1 and {window - 1} for {window}-token windows, got {prompt}");
        var windows = new List<int[]>();
        long remaining = options.MaxTokens ?? long.MaxValue;
        foreach (int[] tokens in TokenStream.Encode(data.Documents, model).Windows(window, prompt + 1))
        {
            if (remaining <= 0) break;
            int scored = (int)Math.Min(tokens.Length - prompt, remaining);
            windows.Add(tokens[..(prompt + scored)]);
            remaining -= scored;
        }
        if (windows.Count == 0)
            throw new PruningInputException($"'{data.Path}' has fewer than {prompt + 1} tokens: nothing to score after a {prompt}-token prompt");
        return (windows, prompt);
    }

    public IReadOnlyList<EvaluationResult> Evaluate(TextDocuments data, IReadOnlyList<(string Label, StagedPruning Pruning)> configurations,
        IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        (IReadOnlyList<int[]> windows, int prompt) = Windows(data);
        var statistics = configurations.Select(_ => new NextTokenStatistics()).ToArray();
        long total = windows.Sum(w => (long)(w.Length - prompt)), done = 0;
        foreach (int[][] batch in Batches(windows))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            Tensor ids = tensor(batch.SelectMany(w => w).Select(t => (long)t).ToArray(), [batch.Length, batch[0].Length]);
            Tensor targets = ids.narrow(1, prompt, batch[0].Length - prompt);
            Tensor? reference = configurations.Any(c => !c.Pruning.IsUnpruned)
                ? forward.ContinuationLogits(ids, prompt, StagedPruning.Unpruned)
                : null;
            for (int c = 0; c < configurations.Count; c++)
            {
                StagedPruning pruning = configurations[c].Pruning;
                Tensor logits = pruning.IsUnpruned && reference is not null ? reference : forward.ContinuationLogits(ids, prompt, pruning);
                statistics[c].Add(logits, targets, pruning.IsUnpruned ? null : reference);
            }
            done += targets.numel();
            progress?.Report(done / (double)total);
        }
        return configurations.Select((c, i) => new EvaluationResult(c.Label, c.Pruning, statistics[i].Tokens, statistics[i].MeanLoss,
            statistics[i].Perplexity, statistics[i].Top1Agreement, statistics[i].MeanKl)).ToArray();
    }

    /// <summary>Consecutive windows of equal length, at most <see cref="EvaluationOptions.BatchSize"/> at a time.</summary>
    private IEnumerable<int[][]> Batches(IReadOnlyList<int[]> windows)
    {
        var batch = new List<int[]>();
        foreach (int[] window in windows)
        {
            if (batch.Count == Math.Max(1, options.BatchSize) || (batch.Count > 0 && batch[0].Length != window.Length))
            {
                yield return batch.ToArray();
                batch.Clear();
            }
            batch.Add(window);
        }
        if (batch.Count > 0) yield return batch.ToArray();
    }
}
