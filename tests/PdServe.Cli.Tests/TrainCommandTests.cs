using PdServe.Engine;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

public sealed class TrainCommandTests
{
    private const string Corpus = """
        In the beginning God created the heaven and the earth.
        And the earth was without form, and void.

        And God said, Let there be light: and there was light.
        And God saw the light, that it was good.

        And God called the light Day, and the darkness he called Night.
        """;

    /// <summary>A tiny training command; <paramref name="extra"/> overrides an option's value or adds a flag.</summary>
    private static string[] Tiny(string corpus, string output, params string[] extra)
    {
        var options = new Dictionary<string, string?>
        {
            ["--corpus"] = corpus, ["--out"] = output, ["--blocks"] = "2", ["--hidden"] = "32", ["--heads"] = "4", ["--kv-heads"] = "2",
            ["--vocab"] = "300", ["--seq"] = "16", ["--batch"] = "2", ["--steps"] = "6", ["--eval-every"] = "3",
            ["--checkpoint-every"] = "3", ["--threads"] = "1",
        };
        for (int i = 0; i < extra.Length; i++)
        {
            bool hasValue = i + 1 < extra.Length && !extra[i + 1].StartsWith("--", StringComparison.Ordinal);
            options[extra[i]] = hasValue ? extra[++i] : null;
        }
        return ["train", .. options.SelectMany(o => o.Value is null ? new[] { o.Key } : new[] { o.Key, o.Value })];
    }

    [Fact]
    public void Trains_a_tokenizer_and_a_model_into_a_directory_that_generate_loads()
    {
        using var directory = new TempDirectory();
        string corpus = directory.Combine("corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus + "\n\n", 20)));
        string output = directory.Combine("model");

        CliRun run = CliRun.Of(Tiny(corpus, output, "--heldout", corpus));

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("model: 2 blocks, hidden 32, heads 4/2", run.Stdout);
        Assert.Contains("done at step 6/6", run.Stdout);
        Assert.Contains("held-out loss", run.Stdout);
        foreach (string file in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        using var model = LoadedModel.Load(output, new ModelLoadOptions());
        Assert.Equal(300, model.Model.Config.VocabSize);
        Assert.Equal(2, model.Model.Config.NumLayers);
        Assert.Equal(model.Tokenizer.BosTokenId, model.EncodePrompt("And God said")[0]);

        CliRun generate = CliRun.Of("generate", "--model", output, "--prompt", "And God said", "--max-tokens", "4", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
    }

    [Fact]
    public void An_existing_run_is_refused_without_resume_and_resume_of_a_finished_run_stops_at_once()
    {
        using var directory = new TempDirectory();
        string corpus = directory.Combine("corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus + "\n\n", 20)));
        string output = directory.Combine("model");
        Assert.Equal(0, CliRun.Of(Tiny(corpus, output)).ExitCode);

        CliRun again = CliRun.Of(Tiny(corpus, output));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a training run; pass --resume", again.Stderr);

        CliRun resumed = CliRun.Of(Tiny(corpus, output, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resuming at step 6", resumed.Stdout);
        Assert.Contains("done at step 6/6", resumed.Stdout);
    }

    [Fact]
    public void A_continued_run_starts_from_the_source_checkpoint_keeps_its_tokenizer_and_shape_and_counts_both_runs()
    {
        using var directory = new TempDirectory();
        string corpus = directory.Combine("corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus + "\n\n", 20)));
        string first = directory.Combine("first"), second = directory.Combine("second");
        Assert.Equal(0, CliRun.Of(Tiny(corpus, first)).ExitCode);

        // A learning rate too small to move a weight: the continued run's weights must be the first run's checkpoint,
        // and its shape the source's even though the shape options say otherwise.
        CliRun continued = CliRun.Of(Tiny(corpus, second, "--continue-from", first, "--steps", "2", "--lr", "1e-12", "--blocks", "3",
            "--eval-every", "1", "--checkpoint-every", "1"));
        Assert.True(continued.ExitCode == 0, continued.Stderr);
        Assert.Contains("model: 2 blocks, hidden 32", continued.Stdout);
        Assert.Contains($"continuing from {Path.GetFullPath(first)} (step 6, 192 tokens seen)", continued.Stdout);
        Assert.Contains("done at step 2/2: 64 tokens seen", continued.Stdout);
        Assert.Contains("(256 tokens and", continued.Stdout);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "tokenizer.json")), File.ReadAllText(Path.Combine(second, "tokenizer.json")));

        using (var before = SafeTensorsCheckpoint.Open(Path.Combine(first, "training", "checkpoint")))
        using (var after = SafeTensorsCheckpoint.Open(Path.Combine(second, "training", "checkpoint")))
        {
            Assert.Equal(before.TensorNames.OrderBy(n => n), after.TensorNames.OrderBy(n => n));
            foreach (string name in before.TensorNames)
            {
                using var a = before.Load(name, TorchSharp.torch.ScalarType.Float32);
                using var b = after.Load(name, TorchSharp.torch.ScalarType.Float32);
                Assert.True(a.allclose(b, rtol: 0, atol: 1e-6), name);
            }
        }
        string state = File.ReadAllText(Path.Combine(second, "training", "checkpoint", "state.json"));
        Assert.Contains("\"continued_from\"", state);

        CliRun resumed = CliRun.Of(Tiny(corpus, second, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("(256 tokens and", resumed.Stdout);

        CliRun both = CliRun.Of(Tiny(corpus, directory.Combine("third"), "--continue-from", first, "--resume"));
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("pass one of them", both.Stderr);
        CliRun nowhere = CliRun.Of(Tiny(corpus, directory.Combine("fourth"), "--continue-from", directory.Combine("absent")));
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("holds no training checkpoint", nowhere.Stderr);
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("empty", "is empty")]
    public void A_missing_or_empty_corpus_is_one_error_line_and_exit_code_2(string kind, string message)
    {
        using var directory = new TempDirectory();
        string corpus = directory.Combine("corpus.txt");
        if (kind == "empty") File.WriteAllText(corpus, "\n\n  \n\n");

        CliRun run = CliRun.Of(Tiny(corpus, directory.Combine("model")));

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.StderrLines);
        Assert.StartsWith("pdserve: --corpus:", line);
        Assert.Contains(message, line);
    }

    [Theory]
    [InlineData(new[] { "--hidden", "30" }, "--hidden 30 must be a multiple of --heads 4")]
    [InlineData(new[] { "--kv-heads", "3" }, "--heads 4 must be a multiple of --kv-heads 3")]
    [InlineData(new[] { "--heads", "32" }, "the head dimension 1 (hidden / heads) must be even")]
    [InlineData(new[] { "--resume" }, "holds no training checkpoint")]
    [InlineData(new[] { "--vocab", "100" }, "--vocab must be an integer >= 258")]
    [InlineData(new[] { "--seq", "4000" }, "a sequence length of 4000 needs at least")]
    public void Impossible_settings_are_one_error_line_and_exit_code_2(string[] extra, string message)
    {
        using var directory = new TempDirectory();
        string corpus = directory.Combine("corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Corpus + "\n\n", 5)));

        CliRun run = CliRun.Of(Tiny(corpus, directory.Combine("model"), extra));

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains(message, line);
    }
}
