using System.CommandLine;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Cli.Training;
using PdServe.Training.Trainer;
using static TorchSharp.torch;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve train --corpus FILE --out DIR [...]</c>: trains a byte-level BPE tokenizer and a Llama on a text corpus
/// (documents separated by blank lines), writing a Hugging Face model directory the server loads.
/// </summary>
public static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var defaults = new TrainingOptions();
        var shape = defaults.Shape;
        var corpus = new Option<string>("--corpus") { Description = "Training text: UTF-8 documents separated by blank lines", HelpName = "FILE", Required = true };
        var heldout = new Option<string?>("--heldout") { Description = "Held-out text in the same format, for the held-out loss", HelpName = "FILE" };
        var output = new Option<string>("--out") { Description = "Output model directory (checkpoints under DIR/training)", HelpName = "DIR", Required = true };
        var blocks = OptionChecks.Int("--blocks", shape.Blocks, "Decoder blocks").Require(n => n >= 1, "an integer >= 1");
        var hidden = OptionChecks.Int("--hidden", shape.Hidden, "Hidden size", "H").Require(n => n >= 8, "an integer >= 8");
        var heads = OptionChecks.Int("--heads", shape.Heads, "Attention heads", "A").Require(n => n >= 1, "an integer >= 1");
        var kvHeads = OptionChecks.Int("--kv-heads", shape.KvHeads, "Key/value heads (grouped-query attention)", "K").Require(n => n >= 1, "an integer >= 1");
        var intermediate = OptionChecks.Int("--intermediate", 0, "SwiGLU width (0 = 8/3 of hidden, rounded up to 64)").Require(n => n >= 0, "an integer >= 0");
        var vocab = OptionChecks.Int("--vocab", 4096, "Tokenizer vocabulary size, special tokens included", "V").Require(n => n >= 258, "an integer >= 258");
        var steps = OptionChecks.Int("--steps", (int)defaults.Steps, "Optimizer steps; the learning-rate schedule spans them", "S").Require(n => n >= 1, "an integer >= 1");
        var minutes = OptionChecks.Double("--minutes", 0, "Stop (with a checkpoint) after this many minutes; 0 = no limit; --resume continues", "M")
            .Require(m => m >= 0, ">= 0");
        var batch = OptionChecks.Int("--batch", defaults.BatchSize, "Sequences per step", "B").Require(n => n >= 1, "an integer >= 1");
        var seq = OptionChecks.Int("--seq", shape.ContextLength, "Sequence length (also the model's context length)", "T").Require(n => n >= 2, "an integer >= 2");
        var lr = OptionChecks.Double("--lr", defaults.PeakLearningRate, "Peak learning rate", "LR").Require(x => x > 0, "> 0");
        var seed = OptionChecks.Int("--seed", defaults.Seed, "Seed for initialization and batch order", "S");
        var dtype = new Option<string>("--dtype") { Description = "Matrix-product dtype: bf16 (float32 master weights) or fp32", HelpName = "bf16|fp32", DefaultValueFactory = _ => "bf16" }
            .Require(d => d is "bf16" or "fp32", "bf16 or fp32");
        var evalEvery = OptionChecks.Int("--eval-every", (int)defaults.EvalEvery, "Held-out loss every N steps").Require(n => n >= 1, "an integer >= 1");
        var checkpointEvery = OptionChecks.Int("--checkpoint-every", (int)defaults.CheckpointEvery, "Checkpoint every N steps").Require(n => n >= 1, "an integer >= 1");
        var shortSeq = OptionChecks.Int("--short-seq", 0, "Train the first --short-steps steps on sequences this long (0 = off); tokens per step stay the same", "T")
            .Require(n => n >= 0, "an integer >= 0");
        var shortSteps = OptionChecks.Int("--short-steps", 0, "Steps of the --short-seq phase", "S").Require(n => n >= 0, "an integer >= 0");
        var dropout = OptionChecks.Double("--dropout", 0, "Dropout on each block's attention and MLP outputs while training (0 = none)", "P")
            .Require(p => p is >= 0 and < 1, "in [0, 1)");
        var weightDecay = OptionChecks.Double("--weight-decay", defaults.WeightDecay, "AdamW weight decay of the matrices", "W")
            .Require(w => w >= 0, ">= 0");
        var pack = new Option<bool>("--pack-documents") { Description = "Join consecutive documents of --corpus and --heldout up to --seq tokens" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint (its options are kept)" };
        var continueFrom = new Option<string?>("--continue-from")
        {
            Description = "Start a new run (its own schedule) from the last checkpoint, tokenizer and shape of the run in DIR",
            HelpName = "DIR",
        };
        var threads = OptionChecks.Threads();

        var command = new Command("train", "Train a tokenizer and a Llama model on a text corpus")
        {
            corpus, heldout, output, blocks, hidden, heads, kvHeads, intermediate, vocab, steps, minutes, batch, seq, lr, seed, dtype,
            evalEvery, checkpointEvery, shortSeq, shortSteps, pack, dropout, weightDecay, resume, continueFrom, threads,
        };
        command.SetAction(parseResult =>
        {
            var options = new TrainOptions
            {
                CorpusPath = parseResult.GetRequiredValue(corpus),
                HeldoutPath = parseResult.GetValue(heldout),
                OutputDirectory = parseResult.GetRequiredValue(output),
                VocabSize = parseResult.GetValue(vocab),
                Minutes = parseResult.GetValue(minutes) is > 0 and var m ? m : null,
                Resume = parseResult.GetValue(resume),
                ContinueFrom = parseResult.GetValue(continueFrom),
                Threads = parseResult.GetValue(threads),
                Training = new TrainingOptions
                {
                    Shape = new TrainingShape
                    {
                        Blocks = parseResult.GetValue(blocks),
                        Hidden = parseResult.GetValue(hidden),
                        Heads = parseResult.GetValue(heads),
                        KvHeads = parseResult.GetValue(kvHeads),
                        Intermediate = parseResult.GetValue(intermediate),
                        ContextLength = parseResult.GetValue(seq),
                    },
                    Steps = parseResult.GetValue(steps),
                    BatchSize = parseResult.GetValue(batch),
                    PeakLearningRate = parseResult.GetValue(lr),
                    Seed = parseResult.GetValue(seed),
                    ComputeDtype = parseResult.GetValue(dtype) == "fp32" ? ScalarType.Float32 : ScalarType.BFloat16,
                    EvalEvery = parseResult.GetValue(evalEvery),
                    CheckpointEvery = parseResult.GetValue(checkpointEvery),
                    ShortSequenceLength = parseResult.GetValue(shortSeq),
                    ShortSequenceSteps = parseResult.GetValue(shortSteps),
                    PackDocuments = parseResult.GetValue(pack),
                    ResidualDropout = parseResult.GetValue(dropout),
                    WeightDecay = parseResult.GetValue(weightDecay),
                },
            };
            TorchThreads.Apply(options.Threads);
            return TrainRunner.Run(options, context);
        });
        return command;
    }
}
