using System.Diagnostics;
using PdServe.Engine;
using PdServe.Engine.Model;
using PdServe.Pruning.Evaluation;
using PdServe.Training.Corpus;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Pruning.Healing;

/// <summary>
/// Heals a pruned configuration by distillation from the unpruned model, in the deployment's own staged computation:
/// a prefill-stage copy of the model runs each window's prompt through its kept blocks and writes the prompt KV, which
/// the decode-stage copy reads — through the plan's token-aware policy, as a decode node receives it — to predict the
/// continuation (the first continuation token comes from the prefill stage, as in serving). The loss is the KL to the
/// unpruned model's next-token distributions; gradients reach both stages' kept blocks (the prefill stage's through
/// the KV it wrote). Embeddings, the final norm and the LM head stay the base model's. The healed weights are rounded to
/// bfloat16, as the nodes will hold them, before they are measured.
/// </summary>
public static class StageHealer
{
    public static HealingResult Heal(LoadedModel teacher, string modelDirectory, StagedPruning pruning, TextDocuments data,
        HealingOptions options, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate(teacher.Model.Config.MaxPositionEmbeddings);
        var windows = TokenStream.Encode(data.Documents, teacher).Windows(options.WindowTokens, options.WindowTokens)
            .Skip((int)Math.Min(int.MaxValue, (options.SkipLeadingTokens + options.WindowTokens - 1) / options.WindowTokens)).ToList();
        (List<int[]> train, List<int[]> held) = Split(windows, options, data.Path);
        CausalLm prefill = Student(modelDirectory);
        CausalLm decode = Student(modelDirectory);
        var result = new StageModels(prefill, decode);
        try
        {
            StagedPruning staged = pruning with { Models = result };
            var teacherPass = new StagedForward(teacher.Model);
            var studentPass = new StagedForward(teacher.Model, trackGradients: true);
            double before = HeldLoss(teacherPass, staged, held, options);

            Parameter[] trainable = Trainable(prefill, pruning.PrefillSkip).Concat(Trainable(decode, pruning.DecodeSkip)).ToArray();
            using var optimizer = optim.AdamW(trainable, options.LearningRate, weight_decay: 0.0);
            var clock = Stopwatch.StartNew();
            double budgetSeconds = options.Minutes * 60;
            var random = new Random(options.Seed);
            int steps = 0;
            long tokens = 0;
            double lastLoss = double.NaN;
            while (!cancellation.IsCancellationRequested)
            {
                double timeShare = budgetSeconds > 0 ? clock.Elapsed.TotalSeconds / budgetSeconds : 0;
                double stepShare = options.MaxSteps > 0 ? steps / (double)options.MaxSteps : 0;
                double done = Math.Max(timeShare, stepShare);
                if (done >= 1) break;
                double rate = options.LearningRate * Math.Min(1.0, (steps + 1.0) / Math.Max(1, options.WarmupSteps)) * Math.Max(0.1, 1 - done);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
                int[][] batch = Enumerable.Range(0, options.BatchSize).Select(_ => train[random.Next(train.Count)]).ToArray();
                lastLoss = Step(teacherPass, studentPass, staged, batch, options, optimizer, trainable);
                steps++;
                tokens += (long)batch.Length * options.WindowTokens;
                progress?.Report(new ProgressUpdate($"healing (KL {lastLoss:F3})", Math.Min(1, done)));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            cancellation.ThrowIfCancellationRequested();
            RoundToBFloat16(trainable);
            double after = HeldLoss(teacherPass, staged, held, options);
            return new HealingResult(result, steps, tokens, seconds, before, after, lastLoss);
        }
        catch
        {
            prefill.Dispose();
            decode.Dispose();
            throw;
        }
    }

    private static (List<int[]> Train, List<int[]> Held) Split(IReadOnlyList<int[]> windows, HealingOptions options, string path)
    {
        if (windows.Count < 2)
            throw new PruningInputException($"'{path}' holds {windows.Count} distillation window(s) of {options.WindowTokens} tokens" +
                (options.SkipLeadingTokens > 0 ? $" past the {options.SkipLeadingTokens} tokens the search scored" : "") +
                "; healing needs at least 2 (give --heal-data FILE)");
        var shuffled = windows.ToList();
        new Random(options.Seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
        int held = options.HeldShare > 0 ? Math.Clamp((int)Math.Round(shuffled.Count * options.HeldShare), 1, shuffled.Count - 1) : 0;
        return (shuffled.Skip(held).ToList(), shuffled.Take(held).ToList());
    }

    /// <summary>A full-depth fp32 copy of the model, frozen until <see cref="Trainable"/> frees a stage's kept blocks.</summary>
    private static CausalLm Student(string modelDirectory)
    {
        CausalLm model = PruningModel.Load(modelDirectory).Model;
        foreach (Parameter parameter in model.parameters()) parameter.requires_grad_(false);
        return model;
    }

    private static IEnumerable<Parameter> Trainable(CausalLm model, IReadOnlySet<int> skip)
    {
        foreach (DecoderBlock block in model.Blocks.Where(b => !skip.Contains(b.Index)))
        {
            foreach (Parameter parameter in block.parameters())
            {
                parameter.requires_grad_(true);
                yield return parameter;
            }
        }
    }

    private static double Step(StagedForward teacherPass, StagedForward studentPass, StagedPruning staged, int[][] batch,
        HealingOptions options, OptimizerHelper optimizer, Parameter[] trainable)
    {
        using var scope = NewDisposeScope();
        Tensor ids = Ids(batch);
        Tensor teacher;
        using (no_grad()) teacher = teacherPass.ContinuationLogits(ids, options.PromptTokens, StagedPruning.Unpruned);
        Tensor loss = DistillationLoss.Of(studentPass.ContinuationLogits(ids, options.PromptTokens, staged), teacher);
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(trainable, options.GradientClipNorm);
        optimizer.step();
        return loss.item<float>();
    }

    /// <summary>Mean distillation loss over the held-back windows (NaN without any).</summary>
    private static double HeldLoss(StagedForward pass, StagedPruning staged, IReadOnlyList<int[]> held, HealingOptions options)
    {
        if (held.Count == 0) return double.NaN;
        using var noGrad = no_grad();
        double sum = 0;
        foreach (int[][] batch in held.Chunk(options.BatchSize))
        {
            using var scope = NewDisposeScope();
            Tensor ids = Ids(batch);
            Tensor teacher = pass.ContinuationLogits(ids, options.PromptTokens, StagedPruning.Unpruned);
            sum += DistillationLoss.Of(pass.ContinuationLogits(ids, options.PromptTokens, staged), teacher).item<float>() * batch.Length;
        }
        return sum / held.Count;
    }

    private static Tensor Ids(int[][] windows) =>
        tensor(windows.SelectMany(w => w).Select(t => (long)t).ToArray(), [windows.Length, windows[0].Length]);

    private static void RoundToBFloat16(IEnumerable<Parameter> parameters)
    {
        using var noGrad = no_grad();
        foreach (Parameter parameter in parameters)
        {
            using Tensor rounded = parameter.to(ScalarType.BFloat16).to(ScalarType.Float32);
            parameter.copy_(rounded);
            parameter.requires_grad_(false);
        }
    }
}
