using PdServe.Engine.Loading;
using PdServe.Engine.Tokenization;

namespace PdServe.Engine.Tests.Tokenization;

/// <summary>Tiny byte-level BPE tokenizers written by <see cref="TokenizerJsonWriter"/> and read back.</summary>
public sealed class TokenizerJsonWriterTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("pdserve-tokw-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly (string, string)[] Merges =
    [
        ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("l", "l"), ("ll", "o"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("Ġwor", "ld"),
        ("l", "d"), ("h", "ello"), ("e", "llo"),
    ];

    /// <summary>Byte alphabet (ids 0..255) followed by the merge results in merge order.</summary>
    private static List<string> Vocabulary()
    {
        var vocab = TokenizerJsonWriter.ByteAlphabet.ToList();
        foreach (var (l, r) in new[] { ("l", "d") }.Concat(Merges))
            if (!vocab.Contains(l + r)) vocab.Add(l + r);
        return vocab;
    }

    private static int Id(string token) => Vocabulary().IndexOf(token);

    [Fact]
    public void WrittenTokenizer_LoadsAndEncodesAsExpected()
    {
        var vocab = Vocabulary();
        TokenizerJsonWriter.Write(dir, vocab, Merges, new TokenizerJsonWriterOptions
        {
            SpecialTokens = ["<|endoftext|>", "<s>"],
            BosToken = "<s>",
            EosToken = "<|endoftext|>",
            AddBosToken = true,
            ChatTemplate = "{{ messages }}",
        });
        Assert.True(File.Exists(Path.Combine(dir, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(dir, "tokenizer_config.json")));

        var tok = TextTokenizer.Load(dir);
        int eot = vocab.Count, bos = vocab.Count + 1;
        Assert.Equal(bos, tok.BosTokenId);
        Assert.Equal(eot, tok.EosTokenId);
        Assert.Equal(vocab.Count + 2, tok.VocabSize);
        Assert.Equal("{{ messages }}", tok.ChatTemplate);
        Assert.Equal(new HashSet<int> { eot, bos }, tok.SpecialTokenIds.ToHashSet());

        // "hello" -> h + e + l + l + o -> "he" (rank 1) ... "ll" (3), "llo" (4), then "hello" via "h"+"ello"? No:
        // "he" was merged first, so "he"+"llo" has no merge and stays two tokens.
        Assert.Equal([bos, Id("he"), Id("llo"), Id("Ġworld")], tok.Encode("hello world"));
        Assert.Equal([Id("Ġthe"), Id("Ġworld"), eot, Id("!")], tok.Encode(" the world<|endoftext|>!", addSpecialTokens: false));
        Assert.Equal([Id("Ã"), Id("©")], tok.Encode("é", addSpecialTokens: false)); // two UTF-8 bytes, no merge
        Assert.Equal("hello world", tok.Decode(tok.Encode("hello world")));
        Assert.Equal("<s>hello world", tok.Decode(tok.Encode("hello world"), skipSpecialTokens: false));
    }

    [Fact]
    public void WrittenTokenizer_WithoutBos_AddsNothing_AndRoundTripsAnyText()
    {
        TokenizerJsonWriter.Write(dir, Vocabulary(), Merges);
        var tok = TextTokenizer.Load(dir);
        Assert.Null(tok.BosTokenId);
        Assert.Equal(tok.Encode("the world", addSpecialTokens: false), tok.Encode("the world"));
        string[] texts =
        [
            "hello world", "  two spaces\n\nnewlines\ttab", "café 日本語 Привет", "emoji 😀👍🏽🇫🇷 👨‍👩‍👧", "x😀abc 𝐀𝐁𝐂",
            "I'm sure it's fine", "", " ", "<|endoftext|>",
        ];
        foreach (var text in texts)
        {
            var ids = tok.Encode(text);
            Assert.Equal(text, tok.Decode(ids, skipSpecialTokens: false));
            // Multi-byte characters are split over single-byte tokens here: streaming must hold them back.
            TokenizerTestHelpers.AssertStreamingMatchesDecode(tok, ids, skipSpecialTokens: false);
        }
        Assert.Equal("", tok.Decode(tok.Encode("<|endoftext|>")));
    }

    [Fact]
    public void Streaming_ByteLevel_EmitsNothingUntilCharacterComplete()
    {
        TokenizerJsonWriter.Write(dir, Vocabulary(), Merges);
        var tok = TextTokenizer.Load(dir);
        var ids = tok.Encode("日", addSpecialTokens: false); // three byte tokens
        Assert.Equal(3, ids.Count);
        var stream = tok.CreateStreamingDetokenizer();
        Assert.Equal("", stream.Push(ids[0]));
        Assert.Equal("", stream.Push(ids[1]));
        Assert.Equal("日", stream.Push(ids[2]));
        Assert.Equal("", stream.Flush());

        // An unfinished character at the end comes out of Flush as U+FFFD (never mid-stream).
        var s2 = tok.CreateStreamingDetokenizer();
        Assert.Equal("", s2.Push(ids[0]));
        Assert.Equal("\uFFFD", s2.Flush());
    }

    [Fact]
    public void Writer_RejectsMergesWhoseResultIsNotInTheVocabulary()
    {
        var vocab = TokenizerJsonWriter.ByteAlphabet.ToList();
        Assert.Throws<ArgumentException>(() => TokenizerJsonWriter.Write(dir, vocab, [("a", "b")]));
    }

    [Fact]
    public void ToByteLevel_MapsSpaceAndBytes()
    {
        Assert.Equal("Ġhi", TokenizerJsonWriter.ToByteLevel(" hi"));
        Assert.Equal("Ã©", TokenizerJsonWriter.ToByteLevel("é"));
        Assert.Equal(256, TokenizerJsonWriter.ByteAlphabet.Distinct().Count());
    }
}

/// <summary>Missing, corrupt and unsupported tokenizer files.</summary>
public sealed class TokenizerLoadErrorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("pdserve-toke-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void MissingDirectory_Throws() =>
        Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(Path.Combine(dir, "nope")));

    [Fact]
    public void NoTokenizerFiles_ThrowsNamingTokenizerJson()
    {
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
        Assert.EndsWith("tokenizer.json", e.File);
    }

    [Fact]
    public void CorruptTokenizerJson_Throws()
    {
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{ \"model\": { \"type\": \"BPE\", \"vocab\": {");
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
        Assert.EndsWith("tokenizer.json", e.File);
    }

    [Fact]
    public void UnsupportedModelType_Throws()
    {
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """{ "model": { "type": "WordPiece", "vocab": { "a": 0 } } }""");
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
        Assert.Contains("WordPiece", e.Message);
    }

    [Fact]
    public void MergeWithUnknownToken_Throws()
    {
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """{ "model": { "type": "BPE", "vocab": { "a": 0 }, "merges": ["a b"] } }""");
        Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
    }

    [Fact]
    public void CorruptTokenizerModel_Throws()
    {
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
        Assert.EndsWith("tokenizer.model", e.File);
    }

    [Fact]
    public void CorruptTokenizerConfig_Throws()
    {
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "not json");
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(dir));
        Assert.EndsWith("tokenizer_config.json", e.File);
    }
}
