using PdServe.Engine.Generation;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Generation;

/// <summary>
/// The one real pretrained checkpoint proves the numerics end to end: RoPE layout, GQA, RMSNorm, tied head and
/// the tokenizer. Its README states what greedy decoding from BOS must print.
/// </summary>
public class Stories260kGenerationTests
{
    private const string ExpectedStart =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    private static async Task<string> GreedyFromBos(string modelDirectory)
    {
        using LoadedModel loaded = LoadedModel.Load(modelDirectory, new ModelLoadOptions { PrefillDtype = ScalarType.Float32 });
        Assert.Equal(new[] { 1, 403, 407, 261, 378 }, loaded.Tokenizer.Encode("Once upon a time"));
        using var engine = new InferenceEngine(loaded.Model, loaded.EosTokenIds);
        var ids = new List<int>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(loaded.EncodePrompt(""),
                           new SamplingParams { Temperature = 0, MaxTokens = 40 })))
            ids.Add(token.Token.TokenId);
        return loaded.Tokenizer.Decode(ids);
    }

    [RequiresSharedModelFact]
    public async Task Greedy_decoding_from_bos_reproduces_the_readme_sentence_with_tokenizer_json()
    {
        string text = await GreedyFromBos(SharedModels.Stories260kPath);
        Assert.StartsWith(ExpectedStart, text);
    }

    [RequiresSharedModelFact]
    public async Task Greedy_decoding_from_bos_reproduces_the_readme_sentence_with_tokenizer_model()
    {
        using var directory = new TempDirectory();
        foreach (string file in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json" })
            File.Copy(Path.Combine(SharedModels.Stories260kPath, file), directory.Combine(file));
        string text = await GreedyFromBos(directory.Path);
        Assert.StartsWith(ExpectedStart, text);
    }

    [RequiresSharedModelFact]
    public async Task Bf16_prefill_and_skipped_blocks_still_run_on_the_real_model()
    {
        using LoadedModel loaded = LoadedModel.Load(SharedModels.Stories260kPath,
            new ModelLoadOptions { SkippedBlocks = new HashSet<int> { 3 } });
        Assert.Equal([0, 1, 2, 4], loaded.Model.Plan.RunBlocks);
        using var engine = new InferenceEngine(loaded.Model, loaded.EosTokenIds);
        var tokens = new List<int>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(loaded.EncodePrompt("Once upon a time"),
                           new SamplingParams { Temperature = 0, MaxTokens = 12 })))
            tokens.Add(token.Token.TokenId);
        Assert.Equal(12, tokens.Count);
        Assert.False(string.IsNullOrWhiteSpace(loaded.Tokenizer.Decode(tokens)));
    }
}
