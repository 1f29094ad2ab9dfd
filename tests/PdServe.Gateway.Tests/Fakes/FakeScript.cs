using PdServe.Engine.Tokenization;
using PdServe.Contracts;

namespace PdServe.Gateway.Tests.Fakes;

/// <summary>
/// The text a fake decode node "generates", as the tiny tokenizer's token ids: greedy requests get
/// <see cref="GreedyText"/>; sampled ones a text that depends only on seed + sample index (so a seed reproduces it).
/// A text shorter than max_tokens ends with EOS and finish "stop", else it is cut with finish "length".
/// </summary>
public sealed class FakeScript(TextTokenizer tokenizer)
{
    public const string GreedyText = "In the beginning God created the heaven and the earth.";

    public int EosTokenId { get; } = tokenizer.EosTokenId ?? throw new ArgumentException("the tokenizer needs an EOS id");

    public static string SampledText(ulong seed, int sampleIndex) => $"Sample {seed + (ulong)sampleIndex}: and there was light.";

    public IReadOnlyList<int> TokensFor(GenerateRequest request, int sampleIndex)
    {
        var sampling = request.Sampling;
        string text = sampling.Temperature == 0
            ? GreedyText
            : SampledText(sampling.HasSeed ? sampling.Seed : (ulong)Random.Shared.Next(1000, 2000), sampleIndex);
        return [.. tokenizer.Encode(text, addSpecialTokens: false), EosTokenId];
    }

    /// <summary>A deterministic logprob for the i-th token (the fake has no model).</summary>
    public static float Logprob(int position) => -0.125f * (position + 1);
}
