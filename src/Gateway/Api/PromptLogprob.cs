using System.Text.Json.Serialization;
using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary>
/// One candidate at a prompt position in vLLM's <c>prompt_logprobs</c> shape: a map from token id to this, per
/// position, null at the first position.
/// </summary>
public sealed record PromptLogprob(
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("decoded_token")] string DecodedToken)
{
    /// <summary>Per position: the prompt's own token and the most likely alternatives, keyed by token id.</summary>
    public static IReadOnlyList<Dictionary<string, PromptLogprob>?> Positions(IReadOnlyList<PromptTokenInfo> prompt) =>
        prompt.Select(token =>
        {
            if (token.Logprob is not { } logprob || token.Rank is not { } rank) return null;
            var candidates = new Dictionary<string, PromptLogprob>(StringComparer.Ordinal)
            {
                [Key(token.TokenId)] = new(logprob, rank, token.Text),
            };
            foreach (PromptAlternative alternative in token.Top)
                candidates.TryAdd(Key(alternative.TokenId), new PromptLogprob(alternative.Logprob, alternative.Rank, alternative.Text));
            return candidates;
        }).ToList();

    private static string Key(int tokenId) => tokenId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
