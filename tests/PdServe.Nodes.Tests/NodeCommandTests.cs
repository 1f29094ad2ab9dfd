using System.Net;
using System.Text.Json;
using Grpc.Core;
using PdServe.Contracts;
using PdServe.Engine.Tokenization;

namespace PdServe.Nodes.Tests;

/// <summary>`pdserve prefill` and `pdserve decode` as separate processes on 127.0.0.1.</summary>
public sealed class NodeCommandTests : IDisposable
{
    private readonly TestModel model = new();
    private readonly HttpClient http = new() { DefaultRequestVersion = HttpVersion.Version11 };

    public void Dispose()
    {
        http.Dispose();
        model.Dispose();
    }

    [Fact]
    public async Task Node_processes_serve_pd_generation_and_a_killed_prefill_node_leaves_the_decode_node_idle()
    {
        int prefillPort = NodeProcess.FreePort(), decodePort = NodeProcess.FreePort(), httpPort = NodeProcess.FreePort();
        using NodeProcess prefill = await NodeProcess.StartAsync("prefill", "--model", model.Path, "--port", $"{prefillPort}", "--threads", "1");
        string prefillAddress = $"http://127.0.0.1:{prefillPort}";
        using NodeProcess decode = await NodeProcess.StartAsync("decode", "--model", model.Path, "--port", $"{decodePort}",
            "--http-port", $"{httpPort}", "--threads", "1", "--transfer-timeout", "120", "--prefill-nodes", prefillAddress);
        using var client = new DecodeTestClient(new Uri($"http://127.0.0.1:{decodePort}"));

        var stdout = new StringWriter();
        Assert.Equal(0, Cli.Program.Run(["generate", "--model", model.Path, "--prompt", "the river", "--max-tokens", "8",
            "--temperature", "0", "--json", "--threads", "1"], stdout, new StringWriter()));
        using JsonDocument generated = JsonDocument.Parse(stdout.ToString());
        int[] prompt = generated.RootElement.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] expected = generated.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var request = DecodeTestClient.Greedy(prompt, 8, prefillAddress);
        request.Sampling.IgnoreEos = false;
        Assert.Equal(expected, (await client.GenerateAsync(request)).Tokens());

        prefill.Kill();
        var failed = await Assert.ThrowsAsync<RpcException>(() => client.GenerateAsync(DecodeTestClient.Greedy(prompt, 8, prefillAddress)));
        Faults.AssertFault(failed, StatusCode.Unavailable, Contracts.FaultSide.Peer);
        // The first request's prompt stays parked: 4 blocks × 256 bytes per position.
        Assert.Equal($"{{\"running\":0,\"waiting\":0,\"kv_usage\":0,\"parked_bytes\":{4 * 256 * prompt.Length}}}",
            await http.GetStringAsync($"http://127.0.0.1:{httpPort}/load"));
        Assert.Equal(8, (await client.GenerateAsync(DecodeTestClient.Greedy(prompt, 8))).Tokens().Length);

        Assert.Equal(0, await decode.TerminateAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void A_plan_for_other_weights_is_one_line_on_stderr_and_exit_code_2()
    {
        using var other = new TestModel(seed: 8);
        string plan = other.WritePlan("other");
        var stderr = new StringWriter();
        int code = Cli.Program.Run(["decode", "--model", model.Path, "--plan", plan, "--port", $"{NodeProcess.FreePort()}", "--threads", "1"],
            new StringWriter(), stderr);
        Assert.Equal(2, code);
        string[] lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("pdserve: decode: the plan was made for model", lines[0]);
    }

    [Fact]
    public void A_missing_port_is_a_usage_error()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, Cli.Program.Run(["prefill", "--model", model.Path], new StringWriter(), stderr));
        Assert.StartsWith("pdserve: --port is required", stderr.ToString());
    }
}
