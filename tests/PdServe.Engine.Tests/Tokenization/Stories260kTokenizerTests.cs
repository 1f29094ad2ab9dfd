using PdServe.Engine.Tokenization;
using PdServe.TestSupport;

namespace PdServe.Engine.Tests.Tokenization;

/// <summary>The project's real pretrained test tokenizer, through tokenizer.json and through tokenizer.model.</summary>
public sealed class Stories260kTokenizerTests : IDisposable
{
    private readonly string modelOnlyDir = TokenizerTestHelpers.CopyWithout(TokenizerTestHelpers.Stories260k, "tokenizer.json");

    public void Dispose() => Directory.Delete(modelOnlyDir, recursive: true);

    private static readonly string[] VariedTexts =
    [
        "Once upon a time",
        "Once upon a time, there was a little girl named Lily. She loved to play outside!",
        " Leading space and  double  spaces ",
        "Line one\nLine two\n\n\tTabbed",
        "Numbers 0123456789 and 3.14",
        "Unicode: café, naïve, Ångström, 日本語, Привет",
        "Emoji 😀👍🏽🇫🇷 and 👨‍👩‍👧 family",
        "x😀abc 𝐀𝐁𝐂",
        "a",
    ];

    [RequiresSharedModelFact("stories260k")]
    public void OnceUponATime_EncodesWithBos_ThroughTokenizerJson()
    {
        var tok = TextTokenizer.Load(TokenizerTestHelpers.Stories260k);
        Assert.Equal([1, 403, 407, 261, 378], tok.Encode("Once upon a time"));
        Assert.Equal([403, 407, 261, 378], tok.Encode("Once upon a time", addSpecialTokens: false));
        Assert.Equal(1, tok.BosTokenId);
        Assert.Equal(2, tok.EosTokenId);
        Assert.Equal(512, tok.VocabSize);
        Assert.Null(tok.ChatTemplate);
        Assert.Equal(new HashSet<int> { 0, 1, 2 }, tok.SpecialTokenIds.ToHashSet());
    }

    [RequiresSharedModelFact("stories260k")]
    public void OnceUponATime_EncodesWithBos_ThroughTokenizerModel()
    {
        Assert.False(File.Exists(Path.Combine(modelOnlyDir, "tokenizer.json")));
        var tok = TextTokenizer.Load(modelOnlyDir);
        Assert.Equal([1, 403, 407, 261, 378], tok.Encode("Once upon a time"));
        Assert.Equal(1, tok.BosTokenId);
        Assert.Equal(2, tok.EosTokenId);
        Assert.Equal(512, tok.VocabSize);
        Assert.Contains(2, tok.SpecialTokenIds);
    }

    [RequiresSharedModelFact("stories260k")]
    public void TokenizerJsonAndTokenizerModel_GiveIdenticalIdsAndText()
    {
        var fromJson = TextTokenizer.Load(TokenizerTestHelpers.Stories260k);
        var fromModel = TextTokenizer.Load(modelOnlyDir);
        foreach (var text in VariedTexts)
        {
            var ids = fromJson.Encode(text);
            Assert.Equal(ids, fromModel.Encode(text));
            Assert.Equal(fromJson.Decode(ids), fromModel.Decode(ids));
            Assert.Equal(fromJson.Decode(ids, skipSpecialTokens: false), fromModel.Decode(ids, skipSpecialTokens: false));
        }
        // Characters outside the 512-token vocabulary go through byte fallback (<0x00>..<0xFF> are ids 3..258).
        var emoji = fromJson.Encode("😀", addSpecialTokens: false);
        Assert.Equal([410, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80], emoji); // "▁" then the four UTF-8 bytes
    }

    [RequiresSharedModelFact("stories260k")]
    public void DecodeOfEncode_RoundTrips_WithSentencePieceLeadingSpaceHandling()
    {
        foreach (var dir in new[] { TokenizerTestHelpers.Stories260k, modelOnlyDir })
        {
            var tok = TextTokenizer.Load(dir);
            foreach (var text in VariedTexts)
            {
                // The "▁" prepended on encode is stripped again on decode, so text comes back exactly,
                // leading spaces included.
                Assert.Equal(text, tok.Decode(tok.Encode(text)));
                Assert.Equal(text, tok.Decode(tok.Encode(text, addSpecialTokens: false)));
            }
            Assert.Equal("<s> Once upon a time</s>", tok.Decode([1, 403, 407, 261, 378, 2], skipSpecialTokens: false));
            Assert.Equal("Once upon a time", tok.Decode([1, 403, 407, 261, 378, 2]));
        }
    }

    [RequiresSharedModelFact("stories260k")]
    public void Streaming_HoldsBackPartialUtf8FromByteFallbackTokens()
    {
        foreach (var dir in new[] { TokenizerTestHelpers.Stories260k, modelOnlyDir })
        {
            var tok = TextTokenizer.Load(dir);
            foreach (var text in VariedTexts)
                TokenizerTestHelpers.AssertStreamingMatchesDecode(tok, tok.Encode(text));

            // "😀" is four <0xNN> tokens: nothing may come out until the last one.
            var ids = tok.Encode("Hi 😀!", addSpecialTokens: false);
            var stream = tok.CreateStreamingDetokenizer();
            var chunks = ids.Select(stream.Push).ToList();
            Assert.Contains("😀", chunks.Where(c => c.Length > 0).Select(c => c.Trim()));
            Assert.Equal("Hi 😀!", string.Concat(chunks) + stream.Flush());
        }
    }
}
