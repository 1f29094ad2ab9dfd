using PdServe.Engine.Loading;

namespace PdServe.Engine.Tokenization;

/// <summary>
/// The engine's tokenizer: text to token ids and back, loaded from a Hugging Face model directory.
/// Thread-safe for concurrent Encode/Decode calls once loaded.
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>Encodes one ordinary (non-added-token) segment, appending ids.</summary>
    internal delegate void SegmentEncoder(string segment, bool isFirstSegment, List<int> output);

    private readonly AddedTokenSplitter splitter;
    private readonly SegmentEncoder encodeSegment;
    private readonly int[] prefixIds;
    private readonly int[] suffixIds;
    private readonly TokenDecoder decoder;

    internal TextTokenizer(AddedTokenSplitter splitter, SegmentEncoder encodeSegment, int[] prefixIds, int[] suffixIds,
        TokenDecoder decoder, int vocabSize, int? bosTokenId, int? eosTokenId, string? chatTemplate,
        IReadOnlySet<int> specialTokenIds)
    {
        this.splitter = splitter; this.encodeSegment = encodeSegment; this.prefixIds = prefixIds; this.suffixIds = suffixIds;
        this.decoder = decoder; VocabSize = vocabSize; BosTokenId = bosTokenId; EosTokenId = eosTokenId;
        ChatTemplate = chatTemplate; SpecialTokenIds = specialTokenIds;
    }

    /// <summary>
    /// Loads the tokenizer of a model directory: tokenizer.json when present, else tokenizer.model
    /// (SentencePiece); tokenizer_config.json supplies BOS/EOS flags and tokens and the chat template.
    /// </summary>
    /// <exception cref="ModelLoadException">Missing, corrupt or unsupported tokenizer files.</exception>
    public static TextTokenizer Load(string modelDirectory) => TokenizerLoader.Load(modelDirectory);

    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    /// <summary>One more than the largest token id (model vocabulary plus added tokens).</summary>
    public int VocabSize { get; }
    public string? ChatTemplate { get; }
    public IReadOnlySet<int> SpecialTokenIds { get; }

    /// <summary>
    /// Encodes text. Added/special token strings in <paramref name="text"/> become their ids. With
    /// <paramref name="addSpecialTokens"/>, the tokens the tokenizer's post-processor or config asks
    /// for (typically BOS) are added.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(prefixIds);
        int position = 0;
        foreach (var (segment, token) in splitter.Split(text))
        {
            if (token is not null) ids.Add(token.Id);
            else encodeSegment(segment!, position == 0, ids);
            position++;
        }
        if (addSpecialTokens) ids.AddRange(suffixIds);
        return ids;
    }

    /// <summary>Decodes ids to text; special tokens are dropped when <paramref name="skipSpecialTokens"/>.</summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var stream = new StreamingDetokenizer(decoder, skipSpecialTokens);
        var sb = new System.Text.StringBuilder();
        foreach (var id in ids) sb.Append(stream.Push(id));
        sb.Append(stream.Flush());
        return sb.ToString();
    }

    /// <summary>A detokenizer for one generation stream (not thread-safe; one per request).</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true) => new(decoder, skipSpecialTokens);
}
