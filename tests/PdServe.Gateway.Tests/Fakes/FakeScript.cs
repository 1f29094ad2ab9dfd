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

    /// <summary>The fake's score of prompt token <paramref name="position"/> (from 1), its rank and its k-th alternative.</summary>
    public static float PromptLogprob(int position) => -0.5f * position;
    public static int PromptRank(int position) => position % 3 + 1;
    public static float PromptAlternativeLogprob(int k) => -0.25f * (k + 1);
    public const int PromptAlternativeFirstId = 'a';

    /// <summary>The scores a node would send for a request that asked for prompt logprobs.</summary>
    public static PromptLogprobs PromptScores(GenerateRequest request)
    {
        var scores = new PromptLogprobs();
        for (int position = 1; position < request.PromptTokenIds.Count; position++)
        {
            var score = new PromptTokenLogprob
            {
                TokenId = request.PromptTokenIds[position], Logprob = PromptLogprob(position), Rank = PromptRank(position),
            };
            for (int k = 0; k < request.Sampling.PromptLogprobs; k++)
                score.TopLogprobs.Add(new TokenLogprob { TokenId = PromptAlternativeFirstId + k, Logprob = PromptAlternativeLogprob(k) });
            scores.Tokens.Add(score);
        }
        return scores;
    }
}
