using System.Text.Json;
using PdServe.Engine.Planning;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary>
/// <c>pdserve bench pruning</c> on a tiny checkpoint: one command searches a plan per K_D (K_P chosen by the search),
/// scores it, times each stage against the unpruned model and measures the KV bytes through real clusters, and the
/// report shows all of it with the command.
/// </summary>
public sealed class BenchPruningTests : IDisposable
{
    private const string Text = "in the beginning god created the heaven and the earth and the earth was without form and void\n\n" +
                                "and darkness was upon the face of the deep and the spirit of god moved upon the face of the waters\n\n" +
                                "and god said let there be light and there was light and god saw the light that it was good";

    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void One_command_writes_quality_rows_stage_speeds_and_measured_kv_bytes_per_plan()
    {
        string model = directory.Combine("model");
        TinyTokenizer.WriteModel(model, TinyCheckpoint.DefaultConfig(numLayers: 4), seed: 8);
        string calibration = directory.Combine("calib.txt"), held = directory.Combine("held.txt"), report = directory.Combine("report");
        File.WriteAllText(calibration, Text);
        File.WriteAllText(held, "the earth brought forth grass and the herb yielding seed after his kind\n\nand the evening and the morning were the third day");

        CliRun run = CliRun.Of("bench", "pruning", "--model", model, "--calib", calibration, "--heldout", held, "--decode-skips", "1,2",
            "--eval-prompt-tokens", "12", "--prompt-tokens", "12", "--continuation-tokens", "6", "--iterations", "4", "--kv-first", "2", "--kv-last", "3", "--speed-rounds", "1",
            "--kv-prompt-lengths", "20,40", "--port", PdServe.Cli.Cluster.NodeSpec.FreePort().ToString(), "--smoke", "--out-dir", report);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        foreach (int decodeSkip in new[] { 1, 2 })
        {
            PrunePlan plan = PrunePlan.Load(Path.Combine(report, $"plan-d{decodeSkip}.json"));
            Assert.Equal(decodeSkip, plan.DecodeSkip.Count);
            Assert.True(plan.PrefillSkip.Count <= decodeSkip);
            Assert.Equal((2, 3), (plan.Kv.First, plan.Kv.Last));
        }
        using JsonDocument measurements = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "measurements.json")));
        JsonElement[] speeds = measurements.RootElement.GetProperty("speeds").EnumerateArray().ToArray();
        Assert.Equal(new[] { "unpruned", "K_D 1", "K_D 2" }, speeds.Select(s => s.GetProperty("configuration").GetString()));
        Assert.Equal(1.0, speeds[0].GetProperty("prefill_speedup").GetDouble(), 12);
        Assert.All(speeds, s => Assert.True(s.GetProperty("decode_batch1_tokens_per_second").GetDouble() > 0));

        // Bytes through the clusters: the unpruned model sends every byte; 4 blocks × 2 × 2 KV heads × 16 dims × 4 bytes per position.
        JsonElement[] bytes = measurements.RootElement.GetProperty("kv_bytes").EnumerateArray().ToArray();
        Assert.Equal(6, bytes.Length);
        foreach (JsonElement measured in bytes)
        {
            long full = measured.GetProperty("bytes_full").GetInt64();
            Assert.Equal(measured.GetProperty("prompt_tokens").GetInt32() * 4L * 2 * 2 * 16 * 4, full);
            long sent = measured.GetProperty("bytes_sent").GetInt64();
            if (measured.GetProperty("configuration").GetString() == "unpruned") Assert.Equal(full, sent);
            else Assert.InRange(sent, 1, full - 1);
        }

        string markdown = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.Contains("## Stage speed", markdown);
        Assert.Contains("## KV bytes per request, measured", markdown);
        Assert.Contains("pdserve bench pruning --model", markdown);
        Assert.Contains("--prefill-skip auto", markdown);
    }
}
