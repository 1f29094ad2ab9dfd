using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdServe.Engine.Tokenization;

/// <summary>Settings of a tokenizer written by <see cref="TokenizerJsonWriter"/>.</summary>
public sealed record TokenizerJsonWriterOptions
{
    /// <summary>Special tokens appended after the vocabulary (ids vocab.Count, vocab.Count + 1, ...), e.g. "&lt;|endoftext|&gt;".</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["<|endoftext|>"];
    public string? BosToken { get; init; }
    public string? EosToken { get; init; } = "<|endoftext|>";
    /// <summary>Whether Encode prepends <see cref="BosToken"/> (written as a TemplateProcessing post-processor).</summary>
    public bool AddBosToken { get; init; }
    public string? ChatTemplate { get; init; }
}

/// <summary>
/// Writes a GPT-2-style byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) in the
/// Hugging Face format that <see cref="TextTokenizer.Load"/> (and transformers) read: model BPE,
/// ByteLevel pre-tokenizer (GPT-2 regex) and decoder, special tokens as added tokens.
/// </summary>
public static class TokenizerJsonWriter
{
    /// <summary>The 256 byte-level symbols in byte order: the base alphabet every byte-level vocabulary starts with.</summary>
    public static IReadOnlyList<string> ByteAlphabet { get; } = ByteLevelMapping.ByteToChar.Select(c => c.ToString()).ToArray();

    /// <summary>Maps text to byte-level symbols (UTF-8 bytes as <see cref="ByteAlphabet"/> characters), e.g. " hi" to "Ġhi".</summary>
    public static string ToByteLevel(string text) => ByteLevelMapping.Encode(text);

    /// <summary>
    /// The pre-tokenizer <see cref="TokenizerLoader"/> builds from the "pre_tokenizer" written here, for code that must
    /// split text exactly as a written tokenizer will (the BPE trainer counts its words with it).
    /// </summary>
    internal static PreTokenizerStep PreTokenizer { get; } = new PreTokenizerStep.ByteLevel(AddPrefixSpace, UseRegex);

    private const bool AddPrefixSpace = false;
    private const bool UseRegex = true;

    /// <param name="modelDirectory">Created if missing; tokenizer.json and tokenizer_config.json are overwritten.</param>
    /// <param name="vocabulary">Byte-level tokens in id order (token i gets id i); normally starts with <see cref="ByteAlphabet"/>.</param>
    /// <param name="merges">Merges in priority order; both sides and their concatenation must be in the vocabulary.</param>
    /// <param name="options">Special tokens and BOS/EOS settings; defaults to a single &lt;|endoftext|&gt; EOS.</param>
    public static void Write(string modelDirectory, IReadOnlyList<string> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges, TokenizerJsonWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(merges);
        options ??= new TokenizerJsonWriterOptions();

        var vocab = new JsonObject();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            if (!ids.TryAdd(vocabulary[i], i)) throw new ArgumentException($"duplicate vocabulary entry '{vocabulary[i]}'", nameof(vocabulary));
            vocab[vocabulary[i]] = i;
        }
        var mergeArray = new JsonArray();
        foreach (var (l, r) in merges)
        {
            if (!ids.ContainsKey(l) || !ids.ContainsKey(r) || !ids.ContainsKey(l + r))
                throw new ArgumentException($"merge '{l} {r}' needs '{l}', '{r}' and '{l + r}' in the vocabulary", nameof(merges));
            if (l.Contains(' ') || r.Contains(' ')) throw new ArgumentException($"merge '{l} {r}' contains a space; byte-level tokens never do", nameof(merges));
            mergeArray.Add($"{l} {r}");
        }

        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        var addedTokens = new JsonArray();
        var addedDecoder = new JsonObject();
        foreach (var s in options.SpecialTokens)
        {
            if (special.ContainsKey(s)) continue;
            int id = ids.TryGetValue(s, out var existing) ? existing : vocabulary.Count + special.Count(kv => kv.Value >= vocabulary.Count);
            special[s] = id;
            addedTokens.Add(new JsonObject
            {
                ["id"] = id, ["content"] = s, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
            addedDecoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = s, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            };
        }
        foreach (var t in new[] { options.BosToken, options.EosToken })
            if (t is not null && !special.ContainsKey(t))
                throw new ArgumentException($"'{t}' must be listed in SpecialTokens", nameof(options));
        if (options.AddBosToken && options.BosToken is null)
            throw new ArgumentException("AddBosToken needs a BosToken", nameof(options));

        JsonNode postProcessor = options.AddBosToken
            ? new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = options.BosToken, ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = options.BosToken, ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = options.BosToken, ["type_id"] = 1 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject
                {
                    [options.BosToken!] = new JsonObject
                    {
                        ["id"] = options.BosToken, ["ids"] = new JsonArray(special[options.BosToken!]),
                        ["tokens"] = new JsonArray(options.BosToken),
                    },
                },
            }
            : ByteLevel();

        static JsonObject ByteLevel() => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = AddPrefixSpace, ["trim_offsets"] = true, ["use_regex"] = UseRegex,
        };

        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = addedTokens,
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(),
            ["post_processor"] = postProcessor,
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };

        var config = new JsonObject
        {
            ["add_bos_token"] = options.AddBosToken,
            ["add_eos_token"] = false,
            ["added_tokens_decoder"] = addedDecoder,
            ["bos_token"] = options.BosToken,
            ["eos_token"] = options.EosToken,
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = 1_000_000,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        if (options.ChatTemplate is not null) config["chat_template"] = options.ChatTemplate;

        Directory.CreateDirectory(modelDirectory);
        var json = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(modelDirectory, TokenizerLoader.TokenizerJson), tokenizer.ToJsonString(json));
        File.WriteAllText(Path.Combine(modelDirectory, TokenizerLoader.TokenizerConfigJson), config.ToJsonString(json));
    }
}
