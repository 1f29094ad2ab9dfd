using System.Text.Json;
using PdServe.Engine.Tokenization;

namespace PdServe.Nodes.Tests;

/// <summary>With pruning off, the disaggregated path changes nothing: PD = unified = `pdserve generate`, token for token.</summary>
public sealed class PdGenerationTests : IDisposable
{
    private readonly TestModel model = new();

    public void Dispose() => model.Dispose();

    private int[] GenerateWithCli(string prompt, int maxTokens)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Program.Run(["generate", "--model", model.Path, "--prompt", prompt, "--max-tokens", maxTokens.ToString(),
            "--temperature", "0", "--json", "--threads", "1"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        using JsonDocument json = JsonDocument.Parse(stdout.ToString());
        return json.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    [Fact]
    public async Task Greedy_pd_equals_unified_equals_pdserve_generate_and_a_full_transfer_sends_every_byte()
    {
        await using NodePair nodes = await NodePair.StartAsync(model.Path);
        TextTokenizer tokenizer = TextTokenizer.Load(model.Path);
        foreach (string prompt in new[] { "the cat", "in the beginning there was an answer, and then another one came along the river" })
        {
            int[] ids = tokenizer.Encode(prompt).ToArray();
            var request = DecodeTestClient.Greedy(ids, maxTokens: 12);
            request.Sampling.IgnoreEos = false; // as `pdserve generate` does
            GenerateResult unified = await nodes.Client.GenerateAsync(request);
            request.PrefillAddress = nodes.PrefillAddress;
            GenerateResult pd = await nodes.Client.GenerateAsync(request);

            Assert.NotEmpty(pd.Tokens());
            Assert.Equal(unified.Tokens(), pd.Tokens());
            Assert.Equal(unified.Logprobs(), pd.Logprobs());
            Assert.Equal(GenerateWithCli(prompt, 12), pd.Tokens());

            // 4 blocks × 2 (keys, values) × 2 KV heads × 16 dims × 4 bytes per prompt position, all of it sent.
            long expected = 4L * ids.Length * 256;
            Assert.Equal(expected, pd.Summary.KvBytesFull);
            Assert.Equal(expected, pd.Summary.KvBytesSent);
            Assert.Equal(0, unified.Summary.KvBytesSent);
            Assert.Equal(ids.Length, pd.Summary.PromptTokens);
            Assert.Equal(pd.Tokens().Length, pd.Summary.CompletionTokens);
            Assert.Equal(pd.Tokens().Length < 12 ? "stop" : "length", pd.Finished.Single().FinishReason);
        }
        Assert.Equal(0, nodes.DecodeState.Budget.ReservedBytes);
    }
}
