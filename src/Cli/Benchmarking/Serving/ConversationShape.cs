using System.Text.Json.Serialization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>multiturn</c> dataset's conversations (<c>--conversations</c>, <c>--turns</c>, <c>--system-tokens</c>,
/// <c>--user-tokens</c>, <c>--think-time</c>): one system prompt shared by every conversation, user messages of a
/// length drawn uniformly from [U/2, 3U/2], and between a reply and the next user message a pause drawn from an
/// exponential distribution of mean <see cref="ThinkTimeSeconds"/> (0: none).
/// </summary>
public sealed record ConversationShape
{
    /// <summary>Conversations per rate; each arrival of the rate's Poisson process starts one.</summary>
    public int Conversations { get; init; } = 16;
    public int Turns { get; init; } = 5;
    public int SystemTokens { get; init; } = 512;
    /// <summary>Mean length of a user message.</summary>
    public int UserTokens { get; init; } = 64;
    public double ThinkTimeSeconds { get; init; } = 1.0;

    /// <summary>The shortest and longest user message: [U/2, 3U/2], at least one token.</summary>
    [JsonIgnore]
    public (int Shortest, int Longest) UserTokenRange => (Math.Max(1, UserTokens / 2), Math.Max(1, UserTokens * 3 / 2));

    [JsonIgnore]
    public int RequestsPerRate => Conversations * Turns;
}
