using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using PdServe.Training.Corpus;
using PdServe.Training.Trainer;
using static TorchSharp.torch;

namespace PdServe.Training.Tests.Trainer;

public sealed class ModelTrainerTests
{
    [Fact]
    public void A_few_steps_on_a_learnable_corpus_lower_the_training_and_held_out_loss()
    {
        using var output = new TempDirectory();
        TrainingOptions options = TinyTraining.Options(steps: 60);
        using var trainer = ModelTrainer.Start(options, TinyTraining.Config(options), TinyTraining.Corpus(400, 1), TinyTraining.Corpus(40, 2), output.Path);
        double initialHeldout = trainer.HeldoutLoss()!.Value;
        var losses = new List<double>();
        TrainingState final = trainer.Run(new Progress(p => losses.Add(p.Loss)));

        Assert.Equal(60, final.Step);
        Assert.Equal(60L * 4 * 32, final.TokensSeen);
        // Uniform guessing over 64 tokens costs ln 64 = 4.16; the counting language is almost deterministic.
        Assert.InRange(initialHeldout, 3.9, 4.4);
        Assert.True(final.LastLoss < 2.0, $"final training loss {final.LastLoss}");
        Assert.True(final.HeldoutLoss < initialHeldout - 2.0, $"held-out loss {initialHeldout} -> {final.HeldoutLoss}");
    }

    [Fact]
    public void Residual_dropout_perturbs_training_passes_only_and_training_with_it_still_learns()
    {
        using var output = new TempDirectory();
        TrainingOptions options = TinyTraining.Options(steps: 60) with { ResidualDropout = 0.1 };
        using var trainer = ModelTrainer.Start(options, TinyTraining.Config(options), TinyTraining.Corpus(400, 1), TinyTraining.Corpus(40, 2), output.Path);
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            Tensor ids = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }).unsqueeze(0);
            Tensor plain = trainer.Model.Forward(ids, ScalarType.Float32);
            Assert.True(plain.equal(trainer.Model.Forward(ids, ScalarType.Float32)).all().item<bool>(), "without dropout a pass is deterministic");
            Tensor dropped = trainer.Model.Forward(ids, ScalarType.Float32, residualDropout: 0.5);
            Assert.False(plain.allclose(dropped), "dropout must change a training pass");
        }
        double initialHeldout = trainer.HeldoutLoss()!.Value;
        TrainingState final = trainer.Run();
        Assert.True(final.HeldoutLoss < initialHeldout - 1.0, $"held-out loss {initialHeldout} -> {final.HeldoutLoss}");
        Assert.Throws<ArgumentException>(() => (options with { ResidualDropout = 1.0 }).Validate());
    }

    [Fact]
    public void The_exported_float32_weights_load_into_a_model_with_bit_identical_logits()
    {
        using var output = new TempDirectory();
        TrainingOptions options = TinyTraining.Options(steps: 5);
        ModelConfig config = TinyTraining.Config(options);
        using var trainer = ModelTrainer.Start(options, config, TinyTraining.Corpus(100, 1), null, output.Path);
        trainer.Run();
        ServingExport.WriteWeights(output.Path, trainer.Model, ScalarType.Float32);
        ModelConfigJson.WriteFiles(output.Path, config, ScalarType.Float32);

        using SafeTensorsCheckpoint saved = SafeTensorsCheckpoint.Open(output.Path);
        using CausalLm loaded = CausalLm.Load(ModelConfig.Load(output.Combine("config.json")), saved,
            new ModelLoadOptions { DecodeDtype = ScalarType.Float32, PrefillDtype = ScalarType.Float32 });
        using Tensor ids = tensor(new long[] { 0, 5, 6, 7, 8, 9, 10, 1 }).unsqueeze(0);
        using var noGrad = no_grad();
        using Tensor expected = trainer.Model.Forward(ids, ScalarType.Float32);
        using Tensor actual = loaded.Forward(ids, ScalarType.Float32);
        Assert.True(expected.shape.SequenceEqual(actual.shape) && expected.eq(actual).all().item<bool>(), "logits differ after save and load");
    }

    [Fact]
    public void The_bf16_serving_export_holds_exactly_the_trained_weights_rounded_to_bf16()
    {
        using var output = new TempDirectory();
        TrainingOptions options = TinyTraining.Options(steps: 3);
        using var trainer = ModelTrainer.Start(options, TinyTraining.Config(options), TinyTraining.Corpus(100, 1), null, output.Path);
        trainer.Run();
        ServingExport.WriteWeights(output.Path, trainer.Model);

        using SafeTensorsCheckpoint saved = SafeTensorsCheckpoint.Open(output.Path);
        Dictionary<string, Tensor> trained = trainer.Model.ExportWeights();
        Assert.Equal(trained.Keys.Order(), saved.TensorNames.Order());
        foreach (var (name, weight) in trained)
        {
            Assert.Equal(ScalarType.BFloat16, saved.StoredDtype(name));
            using Tensor stored = saved.Load(name, weight.shape, ScalarType.BFloat16);
            using Tensor rounded = weight.to(ScalarType.BFloat16);
            Assert.True(rounded.eq(stored).all().item<bool>(), $"{name} differs");
            weight.Dispose();
        }
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly_where_an_uninterrupted_run_would_be()
    {
        TrainingOptions options = TinyTraining.Options(steps: 8);
        ModelConfig config = TinyTraining.Config(options);
        TokenStream corpus = TinyTraining.Corpus(200, 3);

        using var straightDirectory = new TempDirectory();
        var straightLosses = new List<double>();
        using var straight = ModelTrainer.Start(options, config, corpus, null, straightDirectory.Path);
        straight.Run(new Progress(p => straightLosses.Add(p.Loss)));

        using var splitDirectory = new TempDirectory();
        var splitLosses = new List<double>();
        using (var first = ModelTrainer.Start(options, config, corpus, null, splitDirectory.Path))
            first.Run(new Progress(p => splitLosses.Add(p.Loss)), stopAtStep: 3);
        Assert.Equal(3, TrainingCheckpoint.LoadState(splitDirectory.Path).Step);
        using var resumed = ModelTrainer.Resume(config, corpus, null, splitDirectory.Path);
        Assert.Equal(3, resumed.State.Step);
        TrainingState final = resumed.Run(new Progress(p => splitLosses.Add(p.Loss)));

        Assert.Equal(8, final.Step);
        Assert.Equal(straightLosses, splitLosses);
        Dictionary<string, Tensor> expected = straight.Model.ExportWeights(), actual = resumed.Model.ExportWeights();
        foreach (string name in expected.Keys) Assert.True(expected[name].eq(actual[name]).all().item<bool>(), $"{name} differs after resume");
    }

    [Fact]
    public void A_short_sequence_phase_trains_as_many_tokens_per_step_and_resumes_exactly_across_the_switch()
    {
        TrainingOptions options = TinyTraining.Options(steps: 8) with { ShortSequenceLength = 8, ShortSequenceSteps = 4 };
        ModelConfig config = TinyTraining.Config(options);
        TokenStream corpus = TinyTraining.Corpus(200, 3);
        Assert.Equal([8, 8, 8, 8, 32, 32, 32, 32], Enumerable.Range(0, 8).Select(s => options.SequenceLengthAt(s)));
        Assert.Equal(16, options.RowsAt(8));

        using var straightDirectory = new TempDirectory();
        var straight = new List<TrainingProgress>();
        using var uninterrupted = ModelTrainer.Start(options, config, corpus, TinyTraining.Corpus(40, 2), straightDirectory.Path);
        TrainingState final = uninterrupted.Run(new Progress(straight.Add));
        Assert.Equal(8L * 4 * 32, final.TokensSeen);
        Assert.Equal([8, 8, 8, 8, 32, 32, 32, 32], straight.Select(p => p.SequenceLength));

        using var splitDirectory = new TempDirectory();
        var split = new List<double>();
        using (var first = ModelTrainer.Start(options, config, corpus, TinyTraining.Corpus(40, 2), splitDirectory.Path))
            first.Run(new Progress(p => split.Add(p.Loss)), stopAtStep: 5);
        using var resumed = ModelTrainer.Resume(config, corpus, TinyTraining.Corpus(40, 2), splitDirectory.Path);
        Assert.Equal(options, resumed.State.Options);
        resumed.Run(new Progress(p => split.Add(p.Loss)));
        Assert.Equal(straight.Select(p => p.Loss), split);
    }

    [Theory]
    [InlineData(7, "must be at least 2 and divide --seq 32")]
    [InlineData(32, "must be at least 2 and divide --seq 32")]
    [InlineData(1, "must be at least 2 and divide --seq 32")]
    public void A_short_sequence_that_does_not_divide_the_context_is_refused(int shortLength, string message)
    {
        TrainingOptions options = TinyTraining.Options() with { ShortSequenceLength = shortLength, ShortSequenceSteps = 3 };
        Assert.Contains(message, Assert.Throws<ArgumentException>(options.Validate).Message);
    }

    [Fact]
    public void Training_attention_computes_the_logits_the_serving_forward_pass_computes()
    {
        TrainingOptions options = TinyTraining.Options() with
        {
            Shape = new TrainingShape { Blocks = 2, Hidden = 32, Heads = 4, KvHeads = 2, ContextLength = 300 },
        };
        ModelConfig config = TinyTraining.Config(options);
        using var output = new TempDirectory();
        using var trainer = ModelTrainer.Start(options, config, TinyTraining.Corpus(200, 1), null, output.Path);
        // 300 positions: more than one of the serving path's query chunks, so the chunked masks are compared too.
        using Tensor ids = tensor(TinyTraining.Corpus(30, 4).Tokens.Take(300).Select(t => (long)t).ToArray()).unsqueeze(0);
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using Tensor training = trainer.Model.Forward(ids, dtype).detach();
            using Tensor serving = WithoutGradients(() => trainer.Model.Forward(ids, dtype));
            double tolerance = dtype == ScalarType.Float32 ? 1e-4 : 0.1;
            double difference = (training - serving).abs().max().item<float>();
            Assert.True(difference < tolerance, $"{dtype}: the training and serving logits differ by {difference}");
        }
    }

    private static Tensor WithoutGradients(Func<Tensor> compute)
    {
        using var noGrad = no_grad();
        return compute();
    }

    /// <summary>Reports synchronously on the trainer's thread (System.Progress would post to the thread pool).</summary>
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
