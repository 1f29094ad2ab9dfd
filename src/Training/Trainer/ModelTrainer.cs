using System.Diagnostics;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Training.Corpus;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PdServe.Training.Trainer;

/// <summary>
/// Trains the engine's own <see cref="CausalLm"/> (the class that serves, not a second forward pass) as a next-token
/// predictor: AdamW with decoupled weight decay on matrices only, warm-up + cosine schedule, gradient clipping,
/// float32 master weights with bf16 matrix products, periodic held-out loss and resumable checkpoints.
/// </summary>
public sealed class ModelTrainer : IDisposable
{
    private readonly TrainingOptions options;
    private readonly BatchSampler sampler;
    private readonly BatchSampler? shortSampler;
    private readonly TokenStream? heldout;
    private readonly string outputDirectory;
    private readonly AdamW optimizer;
    private readonly IReadOnlyList<Parameter> parameters;
    private TrainingState state;

    private ModelTrainer(TrainingOptions options, ModelConfig config, CausalLm model, TokenStream train, TokenStream? heldout,
        string outputDirectory, TrainingState state)
    {
        this.options = options;
        Config = config;
        Model = model;
        this.heldout = heldout;
        this.outputDirectory = outputDirectory;
        this.state = state;
        sampler = new BatchSampler(train.Tokens, options.SequenceLength, options.BatchSize, options.Seed);
        if (options.ShortSequenceLength > 0)
            shortSampler = new BatchSampler(train.Tokens, options.ShortSequenceLength, options.RowsAt(options.ShortSequenceLength), options.Seed);
        parameters = model.parameters().ToArray();
        foreach (Parameter p in parameters) p.requires_grad_(true);
        // Weight decay pulls matrices toward zero; norm gains (1-D) are not decayed, as is usual for Llama training.
        var decayed = parameters.Where(p => p.dim() >= 2).ToArray();
        var undecayed = parameters.Where(p => p.dim() < 2).ToArray();
        optimizer = optim.AdamW(
        [
            new AdamW.ParamGroup(decayed, new AdamW.Options { weight_decay = options.WeightDecay }),
            new AdamW.ParamGroup(undecayed, new AdamW.Options { weight_decay = 0.0 }),
        ], options.PeakLearningRate, options.Beta1, options.Beta2, 1e-8, options.WeightDecay);
    }

    public ModelConfig Config { get; }
    public CausalLm Model { get; }
    public TrainingState State => state;

    /// <summary>A fresh run: initial weights from the seed.</summary>
    public static ModelTrainer Start(TrainingOptions options, ModelConfig config, TokenStream train, TokenStream? heldout, string outputDirectory)
    {
        options.Validate();
        manual_seed(options.Seed);
        var model = CausalLm.Load(config, new InitialWeights(config, options.Seed), TrainingLoadOptions);
        return new ModelTrainer(options, config, model, train, heldout, outputDirectory, new TrainingState { Options = options });
    }

    /// <summary>
    /// A new run (its own schedule, fresh optimizer moments) whose initial weights are the float32 checkpoint of the
    /// finished or stopped run in <paramref name="sourceDirectory"/>: a second phase of training, e.g. more epochs at a
    /// lower peak learning rate, that keeps the first run's record.
    /// </summary>
    public static ModelTrainer Continue(TrainingOptions options, ModelConfig config, string sourceDirectory, TokenStream train,
        TokenStream? heldout, string outputDirectory)
    {
        options.Validate();
        manual_seed(options.Seed);
        TrainingState source = TrainingCheckpoint.LoadState(sourceDirectory);
        CausalLm model;
        using (SafeTensorsCheckpoint weights = TrainingCheckpoint.OpenWeights(sourceDirectory))
            model = CausalLm.Load(config, weights, TrainingLoadOptions);
        var origin = new ContinuationSource
        {
            Directory = Path.GetFullPath(sourceDirectory),
            Step = source.Step,
            TokensSeen = source.TokensSeen,
            ElapsedSeconds = source.ElapsedSeconds,
            ContinuedFrom = source.ContinuedFrom,
        };
        return new ModelTrainer(options, config, model, train, heldout, outputDirectory, new TrainingState { Options = options, ContinuedFrom = origin });
    }

    /// <summary>Continues from the checkpoint under <paramref name="outputDirectory"/>, with the options it was started with.</summary>
    public static ModelTrainer Resume(ModelConfig config, TokenStream train, TokenStream? heldout, string outputDirectory)
    {
        TrainingState saved = TrainingCheckpoint.LoadState(outputDirectory);
        CausalLm model;
        using (SafeTensorsCheckpoint weights = TrainingCheckpoint.OpenWeights(outputDirectory))
            model = CausalLm.Load(config, weights, TrainingLoadOptions);
        var trainer = new ModelTrainer(saved.Options, config, model, train, heldout, outputDirectory, saved);
        TrainingCheckpoint.LoadOptimizer(outputDirectory, trainer.optimizer);
        return trainer;
    }

    /// <summary>Float32 everywhere the weights live; one thread of decode splitting would only get in autograd's way.</summary>
    private static readonly ModelLoadOptions TrainingLoadOptions = new()
    {
        DecodeDtype = ScalarType.Float32,
        PrefillDtype = ScalarType.Float32,
        TwoThreadDecode = false,
    };

    /// <summary>
    /// Runs until the schedule's last step, <paramref name="stopAtStep"/>, the <paramref name="timeBudget"/> or
    /// cancellation, whichever comes first, and always ends with a checkpoint, so the run can be resumed.
    /// </summary>
    public TrainingState Run(IProgress<TrainingProgress>? progress = null, long? stopAtStep = null, TimeSpan? timeBudget = null,
        CancellationToken cancellation = default)
    {
        long last = Math.Min(options.Steps, stopAtStep ?? options.Steps);
        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        long stepsThisRun = 0;
        LearningRateSchedule schedule = options.Schedule;
        Model.train();
        while (state.Step < last && !cancellation.IsCancellationRequested && (timeBudget is null || clock.Elapsed < timeBudget))
        {
            long step = state.Step;
            double lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double loss = TrainStep(step);
            stepsThisRun++;
            long done = step + 1;
            double? heldoutLoss = done % options.EvalEvery == 0 || done == last ? HeldoutLoss(options.SequenceLengthAt(step)) : null;
            state = state with
            {
                Step = done,
                TokensSeen = state.TokensSeen + sampler.TokensPerBatch,
                ElapsedSeconds = elapsedBefore + clock.Elapsed.TotalSeconds,
                LastLoss = loss,
                HeldoutLoss = heldoutLoss ?? state.HeldoutLoss,
            };
            bool checkpoint = done % options.CheckpointEvery == 0;
            if (checkpoint) SaveCheckpoint();
            double perStep = clock.Elapsed.TotalSeconds / stepsThisRun;
            progress?.Report(new TrainingProgress(done, options.Steps, loss, lr, options.SequenceLengthAt(step), sampler.TokensPerBatch / perStep,
                TimeSpan.FromSeconds(state.ElapsedSeconds), TimeSpan.FromSeconds(perStep * (last - done)), heldoutLoss, checkpoint));
        }
        if (!TrainingCheckpoint.Exists(outputDirectory) || TrainingCheckpoint.LoadState(outputDirectory).Step != state.Step) SaveCheckpoint();
        return state;
    }

    private double TrainStep(long step)
    {
        using var scope = NewDisposeScope();
        int length = options.SequenceLengthAt(step);
        // Each phase draws its own deterministic batches, the long phase from its first step on.
        (long[] inputs, long[] targets) = length == options.SequenceLength
            ? sampler.Batch(step - (shortSampler is null ? 0 : options.ShortSequenceSteps))
            : shortSampler!.Batch(step);
        Tensor inputIds = tensor(inputs).view(options.RowsAt(length), length);
        Tensor targetIds = tensor(targets);
        optimizer.zero_grad();
        Tensor logits = Model.Forward(inputIds, options.ComputeDtype, residualDropout: options.ResidualDropout);
        Tensor loss = nn.functional.cross_entropy(logits.view(-1, Config.VocabSize), targetIds);
        loss.backward();
        nn.utils.clip_grad_norm_(parameters, options.GradientClipNorm);
        optimizer.step();
        return loss.item<float>();
    }

    /// <summary>
    /// Mean next-token loss over the first <see cref="TrainingOptions.EvalWindows"/> held-out windows of the sequence
    /// length the run trains on now (the model's context once the short phase is over).
    /// </summary>
    public double? HeldoutLoss() => HeldoutLoss(options.SequenceLengthAt(state.Step));

    public double? HeldoutLoss(int length)
    {
        if (heldout is null) return null;
        using var noGrad = no_grad();
        int windows = Math.Min(options.EvalWindows, (heldout.Length - 1) / length);
        if (windows < 1) return null;
        double total = 0;
        for (int w = 0; w < windows; w++)
        {
            using var scope = NewDisposeScope();
            Tensor ids = tensor(heldout.Tokens.AsSpan(w * length, length).ToArray().Select(t => (long)t).ToArray()).unsqueeze(0);
            Tensor targets = tensor(heldout.Tokens.AsSpan(w * length + 1, length).ToArray().Select(t => (long)t).ToArray());
            Tensor logits = Model.Forward(ids, options.ComputeDtype);
            total += nn.functional.cross_entropy(logits.view(-1, Config.VocabSize), targets).item<float>();
        }
        return total / windows;
    }

    /// <summary>Saves the resumable snapshot and refreshes the servable weights, so the output directory always loads.</summary>
    public void SaveCheckpoint()
    {
        TrainingCheckpoint.Save(outputDirectory, Model, optimizer, state);
        ServingExport.WriteWeights(outputDirectory, Model);
    }

    public void Dispose()
    {
        optimizer.Dispose();
        Model.Dispose();
    }
}
