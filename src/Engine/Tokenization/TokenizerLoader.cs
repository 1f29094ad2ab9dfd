using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using PdServe.Engine.Loading;

namespace PdServe.Engine.Tokenization;

/// <summary>Builds a <see cref="TextTokenizer"/> from tokenizer.json or tokenizer.model plus tokenizer_config.json.</summary>
internal static class TokenizerLoader
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerModel = "tokenizer.model";
    public const string TokenizerConfigJson = "tokenizer_config.json";

    public static TextTokenizer Load(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        if (!Directory.Exists(modelDirectory))
            throw new ModelLoadException(modelDirectory, "model directory does not exist");
        var config = TokenizerConfig.Read(modelDirectory);
        var jsonPath = Path.Combine(modelDirectory, TokenizerJson);
        if (File.Exists(jsonPath)) return LoadTokenizerJson(jsonPath, config);
        var modelPath = Path.Combine(modelDirectory, TokenizerModel);
        if (File.Exists(modelPath)) return LoadSentencePiece(modelPath, config);
        throw new ModelLoadException(jsonPath, $"no tokenizer found: neither {TokenizerJson} nor {TokenizerModel} exists in the model directory");
    }

    // ---------------------------------------------------------------- tokenizer.json

    private static TextTokenizer LoadTokenizerJson(string path, TokenizerConfig config)
    {
        Exception Error(string problem) => new ModelLoadException(path, problem);
        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(path);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot read tokenizer.json: {e.Message}");
        }

        using (doc)
        {
            try { return BuildFromJson(doc.RootElement, config, Error); }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
            {
                throw new ModelLoadException(path, $"malformed tokenizer.json: {e.Message}");
            }
        }
    }

    private static TextTokenizer BuildFromJson(JsonElement root, TokenizerConfig config, Func<string, Exception> error)
    {
        if (root.ValueKind != JsonValueKind.Object) throw error("top level is not a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw error("missing \"model\"");
        var modelType = Str(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : null);
        if (modelType != "BPE")
            throw error($"unsupported tokenizer model type '{modelType ?? "(none)"}': only BPE is supported");

        // Vocabulary and merges
        if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            throw error("model.vocab is missing or not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabEl.EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesEl) && mergesEl.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in mergesEl.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    var s = m.GetString()!;
                    int space = s.IndexOf(' ', 1 < s.Length ? 1 : 0);
                    if (space <= 0) throw error($"merge '{s}' is not of the form 'left right'");
                    merges.Add((s[..space], s[(space + 1)..]));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                    merges.Add((m[0].GetString()!, m[1].GetString()!));
                else throw error("merges entries must be strings or [left, right] pairs");
            }
        }

        var bpe = new BpeModel(vocab, merges,
            unkToken: Str(model, "unk_token"),
            fuseUnk: Bool(model, "fuse_unk") ?? false,
            byteFallback: Bool(model, "byte_fallback") ?? false,
            ignoreMerges: Bool(model, "ignore_merges") ?? false,
            continuingSubwordPrefix: Str(model, "continuing_subword_prefix"),
            endOfWordSuffix: Str(model, "end_of_word_suffix"),
            error);

        // Added tokens (tokenizer.json is authoritative; tokenizer_config.json may add more)
        var added = new Dictionary<int, AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedEl) && addedEl.ValueKind == JsonValueKind.Array)
            foreach (var t in addedEl.EnumerateArray())
            {
                var tok = new AddedToken(t.GetProperty("id").GetInt32(), t.GetProperty("content").GetString()!,
                    Bool(t, "special") ?? false, Bool(t, "lstrip") ?? false, Bool(t, "rstrip") ?? false);
                added[tok.Id] = tok;
            }
        foreach (var t in config.AddedTokens) added.TryAdd(t.Id, t);

        var normalizer = ParseNormalizer(Get(root, "normalizer"), error);
        var preTokenizer = ParsePreTokenizer(Get(root, "pre_tokenizer"), error);
        var decoderSpec = ParseDecoder(Get(root, "decoder"), error);
        var (prefix, suffix) = ParsePostProcessor(Get(root, "post_processor"), vocab, added, error);

        TextTokenizer.SegmentEncoder encode = (segment, isFirst, output) =>
        {
            var text = normalizer?.Normalize(segment) ?? segment;
            if (text.Length == 0) return;
            if (preTokenizer is null) { bpe.Encode(text, output); return; }
            var words = new List<string>();
            preTokenizer.Split(text, isFirst, words);
            foreach (var w in words) bpe.Encode(w, output);
        };

        int vocabSize = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Keys.Max() + 1);
        var tokens = new string?[vocabSize];
        var isAdded = new bool[vocabSize];
        foreach (var (text, id) in vocab) if (id >= 0) tokens[id] = text;
        foreach (var (id, t) in added) { tokens[id] = t.Content; isAdded[id] = true; }

        int? Lookup(string? token) =>
            token is null ? null : added.Values.FirstOrDefault(a => a.Content == token)?.Id ?? (vocab.TryGetValue(token, out var id) ? id : null);

        var special = new HashSet<int>(added.Values.Where(a => a.Special).Select(a => a.Id));
        int? bos = Lookup(config.BosToken);
        int? eos = Lookup(config.EosToken);
        if (config.BosToken is not null && bos is null) throw error($"bos_token '{config.BosToken}' from {TokenizerConfigJson} is not in the vocabulary");
        if (config.EosToken is not null && eos is null) throw error($"eos_token '{config.EosToken}' from {TokenizerConfigJson} is not in the vocabulary");
        if (bos is int b) special.Add(b);
        if (eos is int e) special.Add(e);
        if (Lookup(Str(model, "unk_token")) is int u) special.Add(u);

        (prefix, suffix) = ApplyConfigFlags(prefix, suffix, config, bos, eos, error);

        var decoder = new TokenDecoder(tokens, isAdded, special, decoderSpec.ByteLevel, decoderSpec.ByteFallback,
            decoderSpec.Replacements, decoderSpec.StripLeading);
        return new TextTokenizer(new AddedTokenSplitter(added.Values), encode, prefix, suffix, decoder, vocabSize,
            bos, eos, config.ChatTemplate, special);
    }

    /// <summary>
    /// tokenizer_config.json's add_bos_token/add_eos_token, when present, win over the post-processor
    /// (as transformers' Llama tokenizers rebuild their template from them).
    /// </summary>
    private static (int[] Prefix, int[] Suffix) ApplyConfigFlags(int[] prefix, int[] suffix, TokenizerConfig config,
        int? bos, int? eos, Func<string, Exception> error)
    {
        if (config.AddBos is bool addBos && bos is int b)
        {
            var rest = prefix.Where(id => id != b);
            prefix = addBos ? rest.Prepend(b).ToArray() : rest.ToArray();
        }
        else if (config.AddBos == true) throw error("add_bos_token is true but there is no bos_token");
        if (config.AddEos is bool addEos && eos is int e)
        {
            var rest = suffix.Where(id => id != e);
            suffix = addEos ? rest.Append(e).ToArray() : rest.ToArray();
        }
        else if (config.AddEos == true) throw error("add_eos_token is true but there is no eos_token");
        return (prefix, suffix);
    }

    private static TextNormalizer? ParseNormalizer(JsonElement? el, Func<string, Exception> error)
    {
        if (el is not JsonElement n || n.ValueKind == JsonValueKind.Null) return null;
        var type = Str(n, "type");
        return type switch
        {
            "Sequence" => new TextNormalizer.Sequence(n.GetProperty("normalizers").EnumerateArray()
                .Select(x => ParseNormalizer(x, error)).OfType<TextNormalizer>().ToArray()),
            "Prepend" => new TextNormalizer.Prepend(n.GetProperty("prepend").GetString()!),
            "Replace" => new TextNormalizer.Replace(ParsePattern(n.GetProperty("pattern"), error), n.GetProperty("content").GetString()!),
            "NFC" => new TextNormalizer.Unicode(NormalizationForm.FormC),
            "NFD" => new TextNormalizer.Unicode(NormalizationForm.FormD),
            "NFKC" => new TextNormalizer.Unicode(NormalizationForm.FormKC),
            "NFKD" => new TextNormalizer.Unicode(NormalizationForm.FormKD),
            "Lowercase" => new TextNormalizer.Lowercase(),
            "Strip" => new TextNormalizer.Strip(Bool(n, "strip_left") ?? false, Bool(n, "strip_right") ?? false),
            _ => throw error($"unsupported normalizer type '{type}'"),
        };
    }

    private static PreTokenizerStep? ParsePreTokenizer(JsonElement? el, Func<string, Exception> error)
    {
        if (el is not JsonElement p || p.ValueKind == JsonValueKind.Null) return null;
        var type = Str(p, "type");
        switch (type)
        {
            case "Sequence":
                return new PreTokenizerStep.Sequence(p.GetProperty("pretokenizers").EnumerateArray()
                    .Select(x => ParsePreTokenizer(x, error)).OfType<PreTokenizerStep>().ToArray());
            case "ByteLevel":
                return new PreTokenizerStep.ByteLevel(Bool(p, "add_prefix_space") ?? true, Bool(p, "use_regex") ?? true);
            case "Split":
                var behavior = Str(p, "behavior") ?? "Isolated";
                if (!Enum.TryParse<PreTokenizerStep.Behavior>(behavior, out var b))
                    throw error($"unsupported Split behavior '{behavior}'");
                return new PreTokenizerStep.RegexSplit(ParsePattern(p.GetProperty("pattern"), error), b, Bool(p, "invert") ?? false);
            case "Metaspace":
                var replacement = Str(p, "replacement") ?? "▁";
                var scheme = Str(p, "prepend_scheme") ?? ((Bool(p, "add_prefix_space") ?? true) ? "always" : "never");
                return new PreTokenizerStep.Metaspace(replacement[0], scheme, Bool(p, "split") ?? true);
            case "Digits":
                return new PreTokenizerStep.Digits(Bool(p, "individual_digits") ?? false);
            default:
                throw error($"unsupported pre_tokenizer type '{type}'");
        }
    }

    private static Regex ParsePattern(JsonElement pattern, Func<string, Exception> error)
    {
        if (pattern.TryGetProperty("String", out var s)) return new Regex(Regex.Escape(s.GetString()!), RegexOptions.CultureInvariant);
        if (pattern.TryGetProperty("Regex", out var r))
        {
            try { return new Regex(r.GetString()!, RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { throw error($"regex '{r.GetString()}' is not supported: {e.Message}"); }
        }
        throw error("pattern must be {\"String\": ...} or {\"Regex\": ...}");
    }

    private sealed record DecoderSpec(bool ByteLevel, bool ByteFallback, List<(string, string)> Replacements, int StripLeading);

    private static DecoderSpec ParseDecoder(JsonElement? el, Func<string, Exception> error)
    {
        var spec = new DecoderSpec(false, false, new List<(string, string)>(), 0);
        if (el is JsonElement d && d.ValueKind != JsonValueKind.Null) spec = Apply(spec, d);
        return spec;

        DecoderSpec Apply(DecoderSpec s, JsonElement dec)
        {
            var type = Str(dec, "type");
            switch (type)
            {
                case "Sequence":
                    foreach (var x in dec.GetProperty("decoders").EnumerateArray()) s = Apply(s, x);
                    return s;
                case "ByteLevel": return s with { ByteLevel = true };
                case "ByteFallback": return s with { ByteFallback = true };
                case "Fuse": return s;
                case "Replace":
                    var pattern = dec.GetProperty("pattern");
                    if (!pattern.TryGetProperty("String", out var from)) throw error("decoder Replace supports only String patterns");
                    s.Replacements.Add((from.GetString()!, dec.GetProperty("content").GetString()!));
                    return s;
                case "Strip":
                    if (Str(dec, "content") != " " || (Int(dec, "stop") ?? 0) != 0)
                        throw error("decoder Strip supports only stripping leading spaces");
                    return s with { StripLeading = Int(dec, "start") ?? 0 };
                case "Metaspace":
                    var rep = Str(dec, "replacement") ?? "▁";
                    s.Replacements.Add((rep, " "));
                    var scheme = Str(dec, "prepend_scheme") ?? ((Bool(dec, "add_prefix_space") ?? true) ? "always" : "never");
                    return s with { StripLeading = scheme == "never" ? 0 : 1 };
                default:
                    throw error($"unsupported decoder type '{type}'");
            }
        }
    }

    private static (int[] Prefix, int[] Suffix) ParsePostProcessor(JsonElement? el, Dictionary<string, int> vocab,
        Dictionary<int, AddedToken> added, Func<string, Exception> error)
    {
        var prefix = new List<int>();
        var suffix = new List<int>();
        if (el is JsonElement p && p.ValueKind != JsonValueKind.Null) Apply(p);
        return (prefix.ToArray(), suffix.ToArray());

        int IdOf(string token) =>
            added.Values.FirstOrDefault(a => a.Content == token)?.Id
            ?? (vocab.TryGetValue(token, out var id) ? id : throw error($"post_processor token '{token}' is not in the vocabulary"));

        void Apply(JsonElement proc)
        {
            var type = Str(proc, "type");
            switch (type)
            {
                case "Sequence":
                    foreach (var x in proc.GetProperty("processors").EnumerateArray()) Apply(x);
                    break;
                case "ByteLevel":
                    break; // offsets only
                case "TemplateProcessing":
                    var specials = proc.GetProperty("special_tokens");
                    bool afterSequence = false;
                    foreach (var item in proc.GetProperty("single").EnumerateArray())
                    {
                        if (item.TryGetProperty("Sequence", out _)) { afterSequence = true; continue; }
                        var name = item.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                        var ids = specials.TryGetProperty(name, out var st)
                            ? st.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()
                            : [IdOf(name)];
                        (afterSequence ? suffix : prefix).AddRange(ids);
                    }
                    break;
                case "RobertaProcessing":
                case "BertProcessing":
                    prefix.Add(proc.GetProperty("cls")[1].GetInt32());
                    suffix.Add(proc.GetProperty("sep")[1].GetInt32());
                    break;
                default:
                    throw error($"unsupported post_processor type '{type}'");
            }
        }
    }

    // ---------------------------------------------------------------- tokenizer.model (SentencePiece)

    private static TextTokenizer LoadSentencePiece(string path, TokenizerConfig config)
    {
        var configTokens = config.AddedTokens.ToDictionary(t => t.Content, t => t.Id);
        SentencePieceTokenizer sp;
        try
        {
            using var stream = File.OpenRead(path);
            // BOS/EOS are added by TextTokenizer itself, so the library adds neither.
            sp = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelLoadException(path, $"cannot read SentencePiece model: {e.Message}");
        }

        int vocabSize = sp.Vocabulary.Count == 0 ? 0 : sp.Vocabulary.Values.Max() + 1;
        if (configTokens.Count > 0) vocabSize = Math.Max(vocabSize, configTokens.Values.Max() + 1);
        var tokens = new string?[vocabSize];
        var isAdded = new bool[vocabSize];
        foreach (var (piece, id) in sp.Vocabulary) tokens[id] = piece;

        var addedTokens = new List<AddedToken>
        {
            new(sp.UnknownId, sp.UnknownToken, true),
            new(sp.BeginningOfSentenceId, sp.BeginningOfSentenceToken, true),
            new(sp.EndOfSentenceId, sp.EndOfSentenceToken, true),
        };
        addedTokens.AddRange(config.AddedTokens.Where(t => addedTokens.All(a => a.Id != t.Id)));
        foreach (var t in addedTokens) { tokens[t.Id] = t.Content; isAdded[t.Id] = true; }

        int? Lookup(string? token) => token is null ? null
            : addedTokens.FirstOrDefault(a => a.Content == token)?.Id ?? (sp.Vocabulary.TryGetValue(token, out var id) ? id : null);
        int bos = Lookup(config.BosToken) ?? sp.BeginningOfSentenceId;
        int eos = Lookup(config.EosToken) ?? sp.EndOfSentenceId;
        var special = new HashSet<int>(addedTokens.Where(a => a.Special).Select(a => a.Id)) { bos, eos };

        // transformers' LlamaTokenizer defaults: add_bos_token = true, add_eos_token = false.
        int[] prefix = config.AddBos ?? true ? [bos] : [];
        int[] suffix = config.AddEos ?? false ? [eos] : [];

        TextTokenizer.SegmentEncoder encode = (segment, _, output) =>
            output.AddRange(sp.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false));

        var decoder = new TokenDecoder(tokens, isAdded, special, byteLevel: false, byteFallback: sp.ByteFallback,
            replacements: [("▁", " ")], stripLeadingSpaces: sp.AddDummyPrefix ? 1 : 0);
        return new TextTokenizer(new AddedTokenSplitter(addedTokens), encode, prefix, suffix, decoder, vocabSize,
            bos, eos, config.ChatTemplate, special);
    }

    // ---------------------------------------------------------------- JSON helpers

    internal static JsonElement? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) ? v : null;

    internal static string? Str(JsonElement obj, string name) =>
        Get(obj, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    internal static bool? Bool(JsonElement obj, string name) =>
        Get(obj, name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    internal static int? Int(JsonElement obj, string name) =>
        Get(obj, name) is { ValueKind: JsonValueKind.Number } v ? v.GetInt32() : null;
}

/// <summary>The parts of tokenizer_config.json the tokenizer uses.</summary>
internal sealed record TokenizerConfig(bool? AddBos, bool? AddEos, string? BosToken, string? EosToken,
    string? ChatTemplate, IReadOnlyList<AddedToken> AddedTokens)
{
    public static TokenizerConfig Read(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, TokenizerLoader.TokenizerConfigJson);
        string? template = null;
        var jinja = Path.Combine(modelDirectory, "chat_template.jinja");
        if (File.Exists(jinja)) template = File.ReadAllText(jinja);
        if (!File.Exists(path)) return new TokenizerConfig(null, null, null, null, template, []);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException(path, "top level is not a JSON object");
            var added = new List<AddedToken>();
            if (TokenizerLoader.Get(root, "added_tokens_decoder") is { ValueKind: JsonValueKind.Object } dec)
                foreach (var p in dec.EnumerateObject())
                    added.Add(new AddedToken(int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture),
                        p.Value.GetProperty("content").GetString()!, TokenizerLoader.Bool(p.Value, "special") ?? false,
                        TokenizerLoader.Bool(p.Value, "lstrip") ?? false, TokenizerLoader.Bool(p.Value, "rstrip") ?? false));
            template ??= ReadTemplate(TokenizerLoader.Get(root, "chat_template"));
            return new TokenizerConfig(TokenizerLoader.Bool(root, "add_bos_token"), TokenizerLoader.Bool(root, "add_eos_token"),
                TokenText(TokenizerLoader.Get(root, "bos_token")), TokenText(TokenizerLoader.Get(root, "eos_token")),
                template, added);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or IOException)
        {
            throw new ModelLoadException(path, $"cannot read tokenizer_config.json: {e.Message}");
        }
    }

    /// <summary>A special token is written either as a string or as {"content": "..."}.</summary>
    private static string? TokenText(JsonElement? el) => el switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => TokenizerLoader.Str(o, "content"),
        _ => null,
    };

    /// <summary>chat_template is a string, or a list of {name, template} of which "default" is used.</summary>
    private static string? ReadTemplate(JsonElement? el)
    {
        if (el is { ValueKind: JsonValueKind.String } s) return s.GetString();
        if (el is { ValueKind: JsonValueKind.Array } a)
            foreach (var t in a.EnumerateArray())
                if (TokenizerLoader.Str(t, "name") == "default") return TokenizerLoader.Str(t, "template");
        return null;
    }
}
