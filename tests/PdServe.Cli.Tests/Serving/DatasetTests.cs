using PdServe.Cli.Benchmarking.Serving;
using PdServe.Engine.Tokenization;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests.Serving;

public sealed class DatasetTests
{
    [Fact]
    public void Random_prompts_have_lengths_in_range_no_special_tokens_and_repeat_by_seed()
    {
        using var model = new TempDirectory("pdserve-dataset");
        TinyTokenizer.WriteModel(model.Path, TinyCheckpoint.DefaultConfig(), seed: 1);
        var tokenizer = TextTokenizer.Load(model.Path);

        var prompts = RandomPrompts.Create(tokenizer, inputLength: 40, outputLength: 10, rangeRatio: 0.25, count: 200, seed: 9);

        Assert.Equal(200, prompts.Count);
        Assert.All(prompts, p =>
        {
            Assert.InRange(p.TokenIds!.Count, 30, 50);
            Assert.InRange(p.MaxTokens, 7, 13);
            Assert.DoesNotContain(p.TokenIds, id => tokenizer.SpecialTokenIds.Contains(id) || id < 0 || id >= tokenizer.VocabSize);
        });
        // The range is used, not just its middle.
        Assert.True(prompts.Select(p => p.TokenIds!.Count).Distinct().Count() > 10);
        var again = RandomPrompts.Create(tokenizer, 40, 10, 0.25, 200, 9);
        Assert.Equal(prompts.Select(p => p.TokenIds), again.Select(p => p.TokenIds));
        Assert.All(RandomPrompts.Create(tokenizer, 16, 4, 0, 5, 1), p => Assert.Equal((16, 4), (p.TokenIds!.Count, p.MaxTokens)));
    }

    [Fact]
    public void Jsonl_prompts_take_text_or_ids_and_cycle_in_file_order()
    {
        using var directory = new TempDirectory("pdserve-dataset");
        string path = directory.Combine("prompts.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": \"In the beginning\", \"max_tokens\": 5}", "", "{\"prompt\": [3, 4, 5]}"]);

        var prompts = JsonlPrompts.Load(path, defaultMaxTokens: 9, count: 5);

        Assert.Equal(["In the beginning", null, "In the beginning", null, "In the beginning"], prompts.Select(p => p.Text));
        Assert.Equal([5, 9, 5, 9, 5], prompts.Select(p => p.MaxTokens));
        Assert.Equal([3, 4, 5], prompts[1].TokenIds);
    }

    [Theory]
    [InlineData("not json", ":1: not JSON")]
    [InlineData("{\"text\": \"x\"}", ":1: expected an object with \"prompt\"")]
    [InlineData("{\"prompt\": []}", ":1: \"prompt\" must be")]
    [InlineData("{\"prompt\": \"x\", \"max_tokens\": 0}", ":1: \"max_tokens\" must be")]
    public void Jsonl_errors_name_the_line(string line, string expected)
    {
        using var directory = new TempDirectory("pdserve-dataset");
        string path = directory.Combine("bad.jsonl");
        File.WriteAllText(path, line + "\n");
        var error = Assert.Throws<InvalidDataException>(() => JsonlPrompts.Load(path, 4, 1));
        Assert.Contains(expected, error.Message);
    }
}
