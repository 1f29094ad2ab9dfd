using System.Text.Json;
using PdServe.Engine.Tokenization;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary><c>pdserve generate</c> end to end on a checkpoint (weights, configs, tokenizer) the test writes.</summary>
public sealed class GenerateCommandTests : IDisposable
{
    private readonly TempDirectory model = new();
    private readonly TextTokenizer tokenizer;

    public GenerateCommandTests()
    {
        TinyTokenizer.WriteModel(model.Path, TinyCheckpoint.LlamaGqa(), seed: 5);
        tokenizer = TextTokenizer.Load(model.Path);
    }

    public void Dispose() => model.Dispose();

    private CliRun Generate(params string[] extra) =>
        CliRun.Of(["generate", "--model", model.Path, "--threads", "1", .. extra]);

    private static (int[] Prompt, int[] Tokens, string Text) ParseJson(CliRun run)
    {
        Assert.True(run.ExitCode == 0, run.Stderr);
        using JsonDocument json = JsonDocument.Parse(run.Stdout);
        int[] Ids(string name) => json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (Ids("prompt_token_ids"), Ids("token_ids"), json.RootElement.GetProperty("text").GetString()!);
    }

    [Fact]
    public void Json_output_holds_the_prompt_ids_the_generated_ids_and_their_text()
    {
        var (prompt, tokens, text) = ParseJson(Generate("--prompt", "the cat", "--max-tokens", "6", "--temperature", "0", "--json"));
        Assert.Equal(tokenizer.Encode("the cat"), prompt);
        Assert.Equal(TinyTokenizer.BosTokenId, prompt[0]);
        Assert.InRange(tokens.Length, 1, 6);
        if (tokens.Length < 6) Assert.Equal(TinyTokenizer.EosTokenId, tokens[^1]);
        Assert.Equal(tokenizer.Decode(tokens), text);
    }

    [Fact]
    public void The_fast_decode_kernel_generates_the_torch_kernel_s_greedy_tokens_and_int8_needs_it()
    {
        string[] greedy = ["--prompt", "the cat sat on", "--max-tokens", "8", "--temperature", "0", "--decode-dtype", "fp32", "--json"];
        var torch = ParseJson(Generate([.. greedy, "--decode-kernel", "torch"]));
        var fast = ParseJson(Generate([.. greedy, "--decode-kernel", "fast"]));
        Assert.Equal(torch.Tokens, fast.Tokens);
        var int8 = ParseJson(Generate([.. greedy, "--decode-kernel", "fast", "--fast-weights", "int8"]));
        Assert.Equal(torch.Tokens.Length, int8.Tokens.Length);

        CliRun refused = Generate([.. greedy, "--decode-kernel", "torch", "--fast-weights", "int8"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--fast-weights int8 needs --decode-kernel fast", refused.Stderr);
        Assert.Equal(2, Generate([.. greedy, "--decode-kernel", "cuda"]).ExitCode);
    }

    [Fact]
    public void Greedy_is_deterministic_and_plain_output_is_the_same_text()
    {
        var first = ParseJson(Generate("--prompt", "in the", "--max-tokens", "8", "--temperature", "0", "--json"));
        var second = ParseJson(Generate("--prompt", "in the", "--max-tokens", "8", "--temperature", "0", "--json"));
        Assert.Equal(first.Tokens, second.Tokens);
        CliRun plain = Generate("--prompt", "in the", "--max-tokens", "8", "--temperature", "0");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(first.Text + "\n", plain.Stdout);
    }

    [Fact]
    public void Seeded_sampling_repeats_and_other_seeds_differ()
    {
        int[] Run(string seed) => ParseJson(Generate("--prompt", "an", "--max-tokens", "12", "--temperature", "1.5",
            "--seed", seed, "--json")).Tokens;
        Assert.Equal(Run("3"), Run("3"));
        Assert.NotEqual(Run("3"), Run("4"));
    }

    [Fact]
    public void Stage_dtypes_are_load_options_and_fp32_and_bf16_prefill_agree_on_greedy_tokens_here()
    {
        var fp32 = ParseJson(Generate("--prompt", "the", "--max-tokens", "5", "--temperature", "0", "--json",
            "--prefill-dtype", "fp32", "--decode-dtype", "fp32"));
        var bf16Prefill = ParseJson(Generate("--prompt", "the", "--max-tokens", "5", "--temperature", "0", "--json",
            "--prefill-dtype", "bf16", "--decode-dtype", "fp32"));
        // The first token comes from the prefill; later ones from fp32 decode over a bf16-computed prompt cache.
        Assert.Equal(fp32.Tokens, bf16Prefill.Tokens);
        var bf16 = ParseJson(Generate("--prompt", "the", "--max-tokens", "5", "--temperature", "0", "--json",
            "--decode-dtype", "bf16"));
        Assert.InRange(bf16.Tokens.Length, 1, 5);
    }

    [Fact]
    public void An_empty_prompt_starts_from_bos_alone()
    {
        var (prompt, tokens, _) = ParseJson(Generate("--prompt", "", "--max-tokens", "3", "--temperature", "0", "--json"));
        Assert.Equal([TinyTokenizer.BosTokenId], prompt);
        Assert.NotEmpty(tokens);
    }

    [Fact]
    public void Skipping_blocks_changes_the_model_and_out_of_range_blocks_are_refused()
    {
        var full = ParseJson(Generate("--prompt", "the", "--max-tokens", "8", "--temperature", "0", "--json"));
        var skipped = ParseJson(Generate("--prompt", "the", "--max-tokens", "8", "--temperature", "0", "--json", "--skip-blocks", "1,2"));
        Assert.NotEqual(full.Tokens, skipped.Tokens);

        CliRun refused = Generate("--prompt", "the", "--skip-blocks", "7");
        Assert.Equal(2, refused.ExitCode);
        Assert.Single(refused.StderrLines);
        Assert.Contains("block 7", refused.Stderr);
    }
}
