using PdServe.Engine.Tokenization;

namespace PdServe.Training.Tokenizers;

/// <summary>Settings of <see cref="ByteLevelBpeTrainer.Train"/>.</summary>
public sealed record BpeTrainingOptions
{
    /// <summary>
    /// The whole vocabulary, special tokens included (the model's embedding rows): the 256 byte symbols, one
    /// token per learned merge, then the special tokens.
    /// </summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Beginning-of-sequence token, or null for none. Gets the first id after the learned vocabulary.</summary>
    public string? BosToken { get; init; } = "<|bos|>";

    /// <summary>End-of-sequence token, or null for none. Gets the id after <see cref="BosToken"/>'s.</summary>
    public string? EosToken { get; init; } = "<|endoftext|>";

    /// <summary>Whether the written tokenizer prepends <see cref="BosToken"/> when it encodes.</summary>
    public bool AddBosToken { get; init; } = true;

    /// <summary>Training stops early when the most frequent pair occurs fewer times than this.</summary>
    public int MinPairFrequency { get; init; } = 2;

    /// <summary>The special tokens in id order: <see cref="BosToken"/> then <see cref="EosToken"/>, each once.</summary>
    internal IReadOnlyList<string> SpecialTokens =>
        new[] { BosToken, EosToken }.OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    /// <exception cref="ArgumentException">Options no tokenizer can satisfy.</exception>
    internal void Validate()
    {
        var specials = SpecialTokens;
        int smallest = TokenizerJsonWriter.ByteAlphabet.Count + specials.Count;
        if (VocabSize < smallest)
            throw new ArgumentException(
                $"VocabSize {VocabSize} is too small: a byte-level vocabulary needs the {TokenizerJsonWriter.ByteAlphabet.Count} byte " +
                $"symbols plus {specials.Count} special token(s), so at least {smallest}", nameof(VocabSize));
        if (MinPairFrequency < 1)
            throw new ArgumentException($"MinPairFrequency must be at least 1, not {MinPairFrequency}", nameof(MinPairFrequency));
        if (specials.Any(s => s.Length == 0))
            throw new ArgumentException("special tokens must not be empty strings");
        if (AddBosToken && BosToken is null)
            throw new ArgumentException("AddBosToken needs a BosToken", nameof(AddBosToken));
    }
}
