using System.Text.Json;
using PdServe.Engine.Planning;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary><c>pdserve prune</c>, <c>pdserve eval</c> and <c>--plan</c> end to end on a tiny checkpoint with a tokenizer.</summary>
public sealed class PruneCommandTests : IDisposable
{
    private const string Text = "in the beginning god created the heaven and the earth and the earth was without form and void\n\n" +
                                "and darkness was upon the face of the deep and the spirit of god moved upon the face of the waters\n\n" +
                                "and god said let there be light and there was light and god saw the light that it was good";

    private readonly TempDirectory directory = new();
    private readonly string model;
    private readonly string calibration;
    private readonly string heldOut;

    public PruneCommandTests()
    {
        model = directory.Combine("model");
        TinyTokenizer.WriteModel(model, TinyCheckpoint.DefaultConfig(numLayers: 4), seed: 8);
        calibration = directory.Combine("calib.txt");
        File.WriteAllText(calibration, Text);
        heldOut = directory.Combine("held.txt");
        File.WriteAllText(heldOut, "the earth brought forth grass and the herb yielding seed after his kind\n\nand the evening and the morning were the third day");
    }

    public void Dispose() => directory.Dispose();

    private string[] Prune(string output, params string[] extra) =>
    [
        "prune", "--model", model, "--calib", calibration, "--prefill-skip", "1", "--decode-skip", "2", "--out", output,
        "--prompt-tokens", "12", "--continuation-tokens", "6", "--iterations", "6", "--threads", "1", .. extra,
    ];

    [Fact]
    public void Prune_writes_a_valid_plan_and_eval_with_it_reports_blocks_then_kv()
    {
        string plan = directory.Combine("plan.json");
        string report = directory.Combine("report");
        CliRun run = CliRun.Of(Prune(plan, "--kv-layers", "1", "--kv-first", "2", "--kv-last", "3", "--eval", heldOut, "--report", report));
        Assert.True(run.ExitCode == 0, run.Stderr);
        PrunePlan written = PrunePlan.Load(plan);
        Assert.Single(written.PrefillSkip);
        Assert.Equal(2, written.DecodeSkip.Count);
        Assert.Single(written.Kv.SelectedLayers);
        Assert.Contains("plan written to", run.Stdout);
        Assert.True(File.Exists(Path.Combine(report, "REPORT.md")));
        Assert.True(new FileInfo(Path.Combine(report, "perplexity.png")).Length > 1000);
        using (JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "results.json"))))
            Assert.Equal(5, results.RootElement[0].GetProperty("rows").GetArrayLength()); // unpruned, ShortGPT K_P and K_D, plan, plan + KV

        CliRun eval = CliRun.Of("eval", "--model", model, "--data", heldOut, "--plan", plan, "--window", "24", "--prompt-tokens", "8", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        int unpruned = eval.Stdout.IndexOf("│ unpruned", StringComparison.Ordinal);
        int blocks = eval.Stdout.IndexOf($"│ plan: prefill skips [{written.PrefillSkip[0]}]", StringComparison.Ordinal);
        int withKv = eval.Stdout.IndexOf("+ KV first 2/last 3", StringComparison.Ordinal);
        Assert.True(unpruned > 0 && blocks > unpruned && withKv > blocks, eval.Stdout);
    }

    [Fact]
    public void Plans_for_other_weights_and_impossible_requests_are_refused_with_one_line()
    {
        string plan = directory.Combine("other.json");
        PrunePlan.Unpruned("0123456789abcdef", 4).Save(plan);
        foreach (string[] args in new[]
                 {
                     new[] { "eval", "--model", model, "--data", heldOut, "--plan", plan },
                     new[] { "generate", "--model", model, "--prompt", "in", "--plan", plan },
                 })
        {
            CliRun refused = CliRun.Of(args);
            Assert.Equal(2, refused.ExitCode);
            Assert.StartsWith("pdserve: --plan: the plan was made for model 0123456789ab", Assert.Single(refused.StderrLines));
        }
        string output = directory.Combine("never.json");
        CliRun tooMany = CliRun.Of(Prune(output).Select(a => a == "2" ? "4" : a).ToArray());
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("would remove all 4 blocks", Assert.Single(tooMany.StderrLines));
        File.WriteAllText(directory.Combine("empty.txt"), "\n\n");
        CliRun empty = CliRun.Of(Prune(output).Select(a => a == calibration ? directory.Combine("empty.txt") : a).ToArray());
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("--calib: text file", Assert.Single(empty.StderrLines));
        Assert.False(File.Exists(output));
    }
}
