using System.Text.Json;
using PdServe.Cli.Cluster;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;
using PdServe.Engine.Loading;

namespace PdServe.Cli.Tests;

public class CliTests
{
    private static readonly string ExistingDir = Path.GetTempPath();

    [Fact]
    public void Help_lists_the_commands_with_descriptions()
    {
        var run = CliRun.Of("--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("generate", run.Stdout);
        Assert.Contains("Generate a completion", run.Stdout);
        Assert.Contains("bench", run.Stdout);
        Assert.Contains("Benchmarks", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public void No_arguments_shows_help()
    {
        var run = CliRun.Of();
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("generate", run.Stdout);
    }

    [Fact]
    public void Bench_engine_help_lists_its_options()
    {
        var run = CliRun.Of("bench", "engine", "--help");
        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--model", "--shape", "--threads", "--json" })
            Assert.Contains(option, run.Stdout);
        Assert.DoesNotContain("--smoke", run.Stdout);
    }

    [Fact]
    public void Version_prints_name_and_version()
    {
        var run = CliRun.Of("--version");
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith($"pdserve {CliIdentity.Version}", run.Stdout);
    }

    [Theory]
    [InlineData("--temperature", "-0.5")]
    [InlineData("--temperature", "abc")]
    [InlineData("--temperature", "nan")]
    [InlineData("--top-p", "0")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--top-k", "-1")]
    [InlineData("--top-k", "2.5")]
    [InlineData("--max-tokens", "0")]
    [InlineData("--max-tokens", "many")]
    [InlineData("--skip-blocks", "3,x")]
    [InlineData("--skip-blocks", "-1")]
    [InlineData("--skip-blocks", "3,,5")]
    [InlineData("--seed", "seven")]
    [InlineData("--threads", "0")]
    [InlineData("--prefill-dtype", "auto")]
    [InlineData("--decode-dtype", "fp16")]
    public void Generate_bad_option_value_is_one_line_naming_the_option_and_exit_2(string option, string value)
    {
        var run = CliRun.Of("generate", "--model", ExistingDir, "--prompt", "hi", option, value);
        AssertUsageError(run, option);
    }

    [Fact]
    public void Generate_missing_model_directory_is_a_usage_error()
    {
        string missing = Path.Combine(ExistingDir, "pdserve-no-such-model-" + Guid.NewGuid().ToString("N"));
        var run = CliRun.Of("generate", "--model", missing, "--prompt", "hi");
        AssertUsageError(run, "--model");
        Assert.Contains(missing, run.Stderr);
    }

    [Fact]
    public void Generate_requires_a_prompt_and_an_existing_model_directory_when_one_is_named()
    {
        AssertUsageError(CliRun.Of("generate", "--model", ExistingDir), "--prompt");
        AssertUsageError(CliRun.Of("generate", "--model", Path.Combine(ExistingDir, "no-such-model"), "--prompt", "hi"), "--model");
    }

    [Theory]
    [InlineData("3,5", new[] { 3, 5 })]
    [InlineData("5, 3,3", new[] { 3, 5 })]
    [InlineData("0", new[] { 0 })]
    public void Skip_blocks_parses_comma_lists(string text, int[] expected)
    {
        Assert.True(IntegerList.TryParse(text, out int[] blocks));
        Assert.Equal(expected, blocks);
    }

    [Fact]
    public void Unknown_shape_is_a_usage_error()
    {
        var run = CliRun.Of("bench", "engine", "--shape", "gpt-17");
        AssertUsageError(run, "--shape");
        Assert.Contains("smollm2-135m", run.Stderr);
    }

    [Fact]
    public void Model_and_shape_together_are_a_usage_error()
    {
        var run = CliRun.Of("bench", "engine", "--shape", "smollm2-135m", "--model", ExistingDir);
        AssertUsageError(run, "--shape");
    }

    [Fact]
    public void Bench_engine_bad_threads_is_a_usage_error()
    {
        AssertUsageError(CliRun.Of("bench", "engine", "--threads", "-2"), "--threads");
    }

    [Fact]
    public void Bench_engine_json_into_missing_directory_is_a_usage_error()
    {
        string path = Path.Combine(ExistingDir, "pdserve-no-such-dir-" + Guid.NewGuid().ToString("N"), "out.json");
        AssertUsageError(CliRun.Of("bench", "engine", "--smoke", "--json", path), "--json");
    }

    [Fact]
    public void Up_link_mbit_needs_prefill_nodes_and_a_positive_rate()
    {
        AssertUsageError(CliRun.Of("up", "--link-mbit", "100", "--prefill", "0"), "--link-mbit");
        AssertUsageError(CliRun.Of("up", "--link-mbit", "0"), "--link-mbit");
        // The default single prefill node is fine.
        var ok = Program.BuildRootCommand(new CliContext(new StringWriter(), new StringWriter())).Parse(["up", "--link-mbit", "100"]);
        Assert.Empty(ok.Errors);
    }

    [Fact]
    public void Up_passes_the_decode_kernel_options_to_decode_nodes_only_and_refuses_int8_without_the_fused_kernel()
    {
        var decodeSpec = new NodeSpec(NodeRole.Decode, 0, 7001, 1, [1]);
        var prefillSpec = new NodeSpec(NodeRole.Prefill, 0, 7000, 1, [0]);
        string[] kernel = ["--decode-kernel", "torch", "--fast-weights", "auto"];
        Assert.Equal(["decode", "--model", "m", "--host", "127.0.0.1", "--port", "7001", "--threads", "1", "--prefill-nodes", "http://127.0.0.1:7000",
                "--decode-kernel", "torch", "--fast-weights", "auto"],
            NodeProcess.Arguments(decodeSpec, "m", null, [prefillSpec.Address], decodeArguments: kernel));
        Assert.DoesNotContain("--decode-kernel", NodeProcess.Arguments(prefillSpec, "m", null, [], decodeArguments: kernel));

        var parsed = Program.BuildRootCommand(new CliContext(new StringWriter(), new StringWriter())).Parse(["up", "--decode-kernel", "torch"]);
        Assert.Empty(parsed.Errors);
        AssertUsageError(CliRun.Of("up", "--decode-kernel", "slow"), "--decode-kernel");
        var refused = CliRun.Of("up", "--decode-kernel", "torch", "--fast-weights", "int8");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--fast-weights int8 needs --decode-kernel fast", refused.Stderr);
        Assert.DoesNotContain("PdServe is up", refused.Stdout);
    }

    [Fact]
    public void Unknown_command_and_missing_subcommand_are_usage_errors()
    {
        var unknown = CliRun.Of("frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Single(unknown.StderrLines);
        Assert.Contains("frobnicate", unknown.Stderr);

        var bench = CliRun.Of("bench");
        Assert.Equal(2, bench.ExitCode);
        Assert.Single(bench.StderrLines);
        Assert.Contains("engine", bench.Stderr);
    }

    [Fact]
    public void Bench_engine_prints_the_ceilings_table_and_writes_json()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pdserve-bench-{Guid.NewGuid():N}.json");
        try
        {
            var run = CliRun.Of("bench", "engine", "--smoke", "--threads", "1", "--json", path);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("", run.Stderr);
            Assert.Contains("memory bandwidth (copy)", run.Stdout);
            Assert.Contains("bf16 GEMM", run.Stdout);
            Assert.Contains("GFLOP/s", run.Stdout);

            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var ceilings = json.RootElement.GetProperty("ceilings");
            Assert.Equal(1, ceilings.GetProperty("threads").GetInt32());
            foreach (string name in new[] { "memoryCopyGBps", "memoryReadGBps", "fp32GemmGflops", "bf16GemmGflops", "fp32GemvGBps" })
                Assert.True(ceilings.GetProperty(name).GetDouble() > 0, name);
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("throughput").ValueKind);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Error_reporter_maps_exceptions_to_one_line_and_exit_codes()
    {
        Assert.Equal((2, "pdserve: bad thing"), Report(new CliError("bad thing")));
        Assert.Equal((2, "pdserve: m/config.json: missing 'vocab_size'"),
            Report(new ModelLoadException("m/config.json", "missing 'vocab_size'")));
        Assert.Equal(2, Report(new FileNotFoundException("Could not find file 'x'", "x")).Code);
        Assert.Equal(2, Report(new AggregateException(new CliError("wrapped"))).Code);
        var unexpected = Report(new InvalidOperationException("line one\nline two"));
        Assert.Equal(1, unexpected.Code);
        Assert.Equal("pdserve: unexpected error: InvalidOperationException: line one line two", unexpected.Line);

        static (int Code, string Line) Report(Exception e)
        {
            var stderr = new StringWriter();
            int code = ErrorReporter.Report(e, stderr);
            string[] lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Single(lines);
            return (code, lines[0]);
        }
    }

    private static void AssertUsageError(CliRun run, string option)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}; stderr: {run.Stderr}; stdout: {run.Stdout}");
        string line = Assert.Single(run.StderrLines);
        Assert.StartsWith("pdserve: ", line);
        Assert.Contains(option, line);
        Assert.DoesNotContain("   at ", run.Stderr); // no stack trace
    }
}
