using System.Text.Json;
using PdServe.Cli.Options;
using PdServe.Engine;
using PdServe.Engine.Model;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary>The committed default model (models/kjv-llama): loadable, within its size budget, and what it says.</summary>
public sealed class DefaultModelTests
{
    private static string ModelPath => RepoPaths.InRepo(DefaultModel.RelativePath) ?? throw new InvalidOperationException("repository root not found");

    [Fact]
    public void Loads_as_a_24_block_gqa_llama_with_2048_context_and_tied_embeddings_within_40_MB()
    {
        using var model = LoadedModel.Load(ModelPath, new ModelLoadOptions());
        var config = model.Model.Config;
        Assert.Equal("LlamaForCausalLM", config.Architecture);
        Assert.True(config.NumLayers >= 24, $"{config.NumLayers} blocks");
        Assert.Equal(2048, config.MaxPositionEmbeddings);
        Assert.True(config.NumKvHeads < config.NumHeads, "grouped-query attention");
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(4096, config.VocabSize);
        long bytes = Directory.GetFiles(ModelPath).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes <= 40L * 1024 * 1024, $"{bytes} bytes");
        Assert.Equal([4094, 295, 386, 387], model.EncodePrompt("And God said"));
    }

    [Fact]
    public void Generate_without_model_serves_the_default_and_greedy_from_And_God_said_gives_the_recorded_text()
    {
        CliRun run = CliRun.Of("generate", "--prompt", "And God said", "--max-tokens", "24", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(" unto them, Ye shall not see the land which the LORD your God giveth you, and ye shall live, and serve",
            json.RootElement.GetProperty("text").GetString());
        Assert.Equal(24, json.RootElement.GetProperty("token_ids").GetArrayLength());
    }
}
