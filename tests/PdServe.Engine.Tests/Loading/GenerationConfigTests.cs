using PdServe.Engine.Loading;
using PdServe.TestSupport;

namespace PdServe.Engine.Tests.Loading;

public sealed class GenerationConfigTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string Write(string json)
    {
        string path = dir.Combine("generation_config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void AbsentFileGivesHuggingFaceDefaults()
    {
        var config = GenerationConfig.Load(dir.Combine("generation_config.json"));
        Assert.Same(GenerationConfig.Default, config);
        Assert.False(config.DoSample);
        Assert.Equal(1.0, config.Temperature);
        Assert.Equal(1.0, config.TopP);
        Assert.Equal(50, config.TopK);
        Assert.Null(config.MaxNewTokens);
        Assert.Empty(config.EosTokenIds);
    }

    [Fact]
    public void ReadsAllFieldsWithEosAsList()
    {
        var config = GenerationConfig.Load(Write("""
            {"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "pad_token_id": 0,
             "do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": 20, "max_new_tokens": 64,
             "transformers_version": "4.45.0"}
            """));
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal([128001, 128008, 128009], config.EosTokenIds);
        Assert.Equal(0, config.PadTokenId);
        Assert.True(config.DoSample);
        Assert.Equal(0.6, config.Temperature);
        Assert.Equal(0.9, config.TopP);
        Assert.Equal(20, config.TopK);
        Assert.Equal(64, config.MaxNewTokens);
    }

    [Fact]
    public void EosAsSingleInt()
    {
        Assert.Equal([2], GenerationConfig.Load(Write("""{"eos_token_id": 2}""")).EosTokenIds);
    }

    [Theory]
    [InlineData("""{"top_p": 1.5}""", "'top_p' must be in (0, 1]")]
    [InlineData("""{"temperature": -1}""", "'temperature' must be non-negative")]
    [InlineData("""{"eos_token_id": "two"}""", "invalid value")]
    [InlineData("""{"top_k": 2.5}""", "'top_k' must be an integer")]
    [InlineData("""{"do_sample": """, "invalid JSON")]
    public void InvalidValuesNameTheFile(string json, string expected)
    {
        string path = Write(json);
        var e = Assert.Throws<ModelLoadException>(() => GenerationConfig.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
