namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Draws the <c>multiturn</c> dataset from ordinary token ids (see <see cref="ServerTokenPool"/>): first the system
/// prompt every conversation shares, then per conversation a user message per turn, its length uniform in
/// <see cref="ConversationShape.UserTokenRange"/>, and a think time before every turn after the first, exponential of
/// the shape's mean. Everything comes from <paramref name="random"/> in that order, so a seed fixes the dataset.
/// </summary>
public static class MultiturnConversations
{
    public static IReadOnlyList<Conversation> Create(IReadOnlyList<int> ordinary, ConversationShape shape, int maxTokens, int count, Random random)
    {
        if (ordinary.Count == 0) throw new ArgumentException("no token ids to draw from", nameof(ordinary));
        if (shape.Turns < 1 || shape.UserTokens < 1 || shape.SystemTokens < 0 || maxTokens < 1 || !(shape.ThinkTimeSeconds >= 0))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "turns, user tokens and max tokens >= 1, system tokens and think time >= 0");
        int[] system = RandomPrompts.Ids(ordinary, shape.SystemTokens, random);
        var (shortest, longest) = shape.UserTokenRange;
        var conversations = new List<Conversation>(count);
        for (int c = 0; c < count; c++)
        {
            var messages = new List<IReadOnlyList<int>>(shape.Turns);
            var think = new List<double>(shape.Turns);
            for (int turn = 0; turn < shape.Turns; turn++)
            {
                messages.Add(RandomPrompts.Ids(ordinary, random.Next(shortest, longest + 1), random));
                think.Add(turn == 0 ? 0 : ThinkTime(shape.ThinkTimeSeconds, random));
            }
            conversations.Add(new Conversation(system, messages, think, maxTokens));
        }
        return conversations;
    }

    /// <summary>Exponential of mean <paramref name="meanSeconds"/> by inverse transform of U in (0, 1] (never ln 0); 0 for a mean of 0.</summary>
    private static double ThinkTime(double meanSeconds, Random random) =>
        meanSeconds == 0 ? 0 : -Math.Log(1.0 - random.NextDouble()) * meanSeconds;
}
