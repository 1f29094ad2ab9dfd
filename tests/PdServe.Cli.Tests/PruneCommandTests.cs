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
    public void Prune_with_heal_writes_fingerprinted_stage_weights_that_eval_generate_and_the_nodes_load_and_refuse_when_changed()
    {
        string plan = directory.Combine("healed.json");
        string report = directory.Combine("heal-report");
        // Healing on the calibration text keeps out what the search scored: here that is all of it.
        CliRun nothingLeft = CliRun.Of(Prune(directory.Combine("never.json"), "--heal-steps", "4", "--heal-window", "12"));
        Assert.Equal(2, nothingLeft.ExitCode);
        Assert.Contains("past the", nothingLeft.Stderr);
        string healText = directory.Combine("heal.txt");
        File.WriteAllText(healText, string.Join("\n\n", Enumerable.Repeat("and the waters were gathered together unto one place and the dry land appeared", 6)));
        CliRun run = CliRun.Of(Prune(plan, "--kv-layers", "1", "--kv-first", "2", "--kv-last", "3", "--eval", heldOut, "--report", report,
            "--heal-steps", "4", "--heal-window", "12", "--heal-data", healText));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("healed both stages in 4 steps", run.Stdout);

        PrunePlan written = PrunePlan.Load(plan);
        Assert.NotNull(written.Healed);
        Assert.Equal("healed.prefill.safetensors", written.Healed.Prefill.File);
        Assert.Equal("healed.decode.safetensors", written.Healed.Decode.File);
        Assert.Equal(4, written.Healed.Distillation!["steps"]!.GetValue<int>());
        // Each file holds exactly its stage's kept blocks.
        using (var prefill = PdServe.Engine.Loading.SafeTensorsCheckpoint.OpenFile(directory.Combine(written.Healed.Prefill.File)))
        using (var decode = PdServe.Engine.Loading.SafeTensorsCheckpoint.OpenFile(directory.Combine(written.Healed.Decode.File)))
        {
            int[] BlocksIn(PdServe.Engine.Loading.SafeTensorsCheckpoint file) =>
                file.TensorNames.Select(n => int.Parse(n.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order().ToArray();
            Assert.Equal(Enumerable.Range(0, 4).Except(written.PrefillSkip), BlocksIn(prefill));
            Assert.Equal(Enumerable.Range(0, 4).Except(written.DecodeSkip), BlocksIn(decode));
        }
        // The healed weights are part of the plan's identity: an unhealed plan with the same skips pairs with nobody healed.
        Assert.NotEqual((written with { Healed = null }).Fingerprint(), written.Fingerprint());
        using (JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "results.json"))))
        {
            string[] methods = results.RootElement[0].GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("method").GetString()!).ToArray();
            Assert.Equal(new[] { "unpruned", "ShortGPT", "ShortGPT", "PdServe", "PdServe + KV", "ShortGPT + KV", "ShortGPT + heal", "ShortGPT + heal + KV",
                "PdServe + heal", "PdServe + heal + KV" }, methods);
        }

        CliRun eval = CliRun.Of("eval", "--model", model, "--data", heldOut, "--plan", plan, "--window", "24", "--prompt-tokens", "8", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains("plan (healed): prefill skips", eval.Stdout);
        CliRun healedInt8 = CliRun.Of("eval", "--model", model, "--data", heldOut, "--plan", plan, "--window", "24", "--prompt-tokens", "8", "--threads", "1",
            "--fast-weights", "int8");
        Assert.True(healedInt8.ExitCode == 0, healedInt8.Stderr);
        Assert.Contains("(healed): prefill skips", healedInt8.Stdout[healedInt8.Stdout.IndexOf("unpruned, decode int8", StringComparison.Ordinal)..]);
        CliRun generate = CliRun.Of("generate", "--model", model, "--plan", plan, "--prompt", "in the", "--max-tokens", "3", "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        using (var node = PdServe.NodeHosting.StageModel.Load(model, plan, PdServe.NodeHosting.Stage.Decode, new PdServe.Engine.Model.ModelLoadOptions()))
            Assert.Equal(written.Fingerprint(), node.PlanFingerprint);

        // A changed weights file is refused before any work.
        string decodeFile = directory.Combine(written.Healed.Decode.File);
        byte[] bytes = File.ReadAllBytes(decodeFile);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(decodeFile, bytes);
        CliRun tampered = CliRun.Of("generate", "--model", model, "--plan", plan, "--prompt", "in the", "--max-tokens", "3");
        Assert.Equal(2, tampered.ExitCode);
        Assert.Contains("are not the ones the plan names", tampered.Stderr);
        Assert.Throws<PrunePlanException>(() => PdServe.NodeHosting.StageModel.Load(model, plan, PdServe.NodeHosting.Stage.Decode,
            new PdServe.Engine.Model.ModelLoadOptions()));
    }

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
            Assert.Equal(6, results.RootElement[0].GetProperty("rows").GetArrayLength()); // unpruned, ShortGPT K_P and K_D, plan, plan + KV, ShortGPT K_D + KV

        CliRun eval = CliRun.Of("eval", "--model", model, "--data", heldOut, "--plan", plan, "--window", "24", "--prompt-tokens", "8", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        int unpruned = eval.Stdout.IndexOf("│ unpruned", StringComparison.Ordinal);
        int blocks = eval.Stdout.IndexOf($"│ plan: prefill skips [{written.PrefillSkip[0]}]", StringComparison.Ordinal);
        int withKv = eval.Stdout.IndexOf("+ KV first 2/last 3", StringComparison.Ordinal);
        Assert.True(unpruned > 0 && blocks > unpruned && withKv > blocks, eval.Stdout);

        // --fast-weights int8 adds each configuration again with its decode stage on the fused kernel's int8 weights.
        CliRun int8 = CliRun.Of("eval", "--model", model, "--data", heldOut, "--plan", plan, "--window", "24", "--prompt-tokens", "8", "--threads", "1",
            "--fast-weights", "int8");
        Assert.True(int8.ExitCode == 0, int8.Stderr);
        int unprunedInt8 = int8.Stdout.IndexOf("│ unpruned, decode int8", StringComparison.Ordinal);
        int withKvInt8 = int8.Stdout.IndexOf("last 3 in layers", int8.Stdout.IndexOf("decode int8", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(unprunedInt8 > int8.Stdout.IndexOf("+ KV first 2/last 3", StringComparison.Ordinal) && withKvInt8 > unprunedInt8, int8.Stdout);
        Assert.Contains("\"decode int8\" rows decode with the int8 weights", int8.Stdout);
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
