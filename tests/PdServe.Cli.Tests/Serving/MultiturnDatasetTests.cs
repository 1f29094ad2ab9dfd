using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class MultiturnDatasetTests
{
    private static readonly int[] Ordinary = Enumerable.Range(100, 400).ToArray();

    private static readonly ConversationShape Shape = new() { Conversations = 3, Turns = 4, SystemTokens = 20, UserTokens = 10, ThinkTimeSeconds = 0.5 };

    [Fact]
    public void Each_turn_s_prompt_is_the_previous_prompt_its_reply_and_the_new_user_message()
    {
        var conversation = MultiturnConversations.Create(Ordinary, Shape, maxTokens: 7, count: 1, new Random(5))[0];
        // Replies of different lengths, one empty, with ids no user message holds.
        IReadOnlyList<int>[] replies = [[900, 901, 902], [], [903], [904, 905]];

        var first = conversation.Prompt(0, []);
        Assert.Equal([.. conversation.SystemPrompt, .. conversation.UserMessages[0]], first.TokenIds);
        Assert.Equal(7, first.MaxTokens);
        for (int turn = 1; turn < conversation.Turns; turn++)
        {
            var previous = conversation.Prompt(turn - 1, replies[..(turn - 1)]);
            var prompt = conversation.Prompt(turn, replies[..turn]);
            Assert.Equal([.. previous.TokenIds!, .. replies[turn - 1], .. conversation.UserMessages[turn]], prompt.TokenIds);
        }
        // Replies after the turn asked for play no part in its prompt.
        Assert.Equal(conversation.Prompt(1, replies[..1]).TokenIds, conversation.Prompt(1, replies).TokenIds);
        Assert.Throws<ArgumentException>(() => conversation.Prompt(2, replies[..1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => conversation.Prompt(4, replies));
    }

    [Fact]
    public void Every_conversation_shares_one_system_prompt_and_has_its_own_user_messages()
    {
        var conversations = MultiturnConversations.Create(Ordinary, Shape, 4, count: 6, new Random(1));

        Assert.Equal(6, conversations.Count);
        var system = conversations[0].SystemPrompt;
        Assert.Equal(20, system.Count);
        Assert.All(conversations, c =>
        {
            Assert.Equal(system, c.SystemPrompt);
            Assert.Equal(4, c.Turns);
            Assert.Equal(system, c.Prompt(0, []).TokenIds!.Take(20));
        });
        Assert.Equal(6, conversations.Select(c => string.Join(',', c.UserMessages[0])).Distinct().Count());
        Assert.All(conversations.SelectMany(c => c.SystemPrompt.Concat(c.UserMessages.SelectMany(m => m))), id => Assert.Contains(id, Ordinary));
    }

    [Fact]
    public void A_seed_fixes_the_dataset()
    {
        static string Text(IReadOnlyList<Conversation> conversations) => string.Join('|', conversations.Select(c =>
            $"{string.Join(',', c.SystemPrompt)}/{string.Join(';', c.UserMessages.Select(m => string.Join(',', m)))}/{string.Join(',', c.ThinkSeconds)}"));

        string once = Text(MultiturnConversations.Create(Ordinary, Shape, 4, 5, new Random(11)));
        Assert.Equal(once, Text(MultiturnConversations.Create(Ordinary, Shape, 4, 5, new Random(11))));
        Assert.NotEqual(once, Text(MultiturnConversations.Create(Ordinary, Shape, 4, 5, new Random(12))));
    }

    [Fact]
    public void User_messages_are_uniform_in_half_to_three_halves_of_the_mean_and_think_times_exponential_of_the_mean()
    {
        var shape = new ConversationShape { SystemTokens = 0, UserTokens = 64, Turns = 2, ThinkTimeSeconds = 1.5 };
        var conversations = MultiturnConversations.Create(Ordinary, shape, 4, count: 4000, new Random(3));

        int[] lengths = conversations.SelectMany(c => c.UserMessages.Select(m => m.Count)).ToArray();
        Assert.Equal((32, 96), (lengths.Min(), lengths.Max()));
        // 65 equally likely lengths, 8000 draws: every one is drawn, and the mean is 64 within 1 (its standard error is 0.2).
        Assert.Equal(65, lengths.Distinct().Count());
        Assert.InRange(lengths.Average(), 63, 65);

        Assert.All(conversations, c => Assert.Equal(0, c.ThinkSeconds[0]));
        double[] think = conversations.Select(c => c.ThinkSeconds[1]).ToArray();
        Assert.All(think, t => Assert.True(t >= 0));
        // Exponential of mean 1.5: mean within 0.1 (standard error 1.5/√4000 ≈ 0.024), median 1.5·ln 2 ≈ 1.04.
        Assert.InRange(think.Average(), 1.4, 1.6);
        Assert.InRange(think.Order().ElementAt(think.Length / 2), 0.95, 1.13);

        var none = MultiturnConversations.Create(Ordinary, shape with { ThinkTimeSeconds = 0 }, 4, 10, new Random(3));
        Assert.All(none.SelectMany(c => c.ThinkSeconds), t => Assert.Equal(0, t));
        Assert.Equal((1, 1), new ConversationShape { UserTokens = 1 }.UserTokenRange);
        Assert.Equal(80, new ConversationShape { Conversations = 16, Turns = 5 }.RequestsPerRate);
    }

    [Fact]
    public void A_shared_prefix_dataset_shares_its_prefix_and_gives_each_request_its_own_suffix()
    {
        var prompts = SharedPrefixPrompts.Create(Ordinary, new SharedPrefixShape { PrefixTokens = 30, SuffixTokens = 6 }, maxTokens: 5, count: 8, new Random(2));

        Assert.Equal(8, prompts.Count);
        var prefix = prompts[0].TokenIds!.Take(30).ToArray();
        Assert.All(prompts, p =>
        {
            Assert.Equal(36, p.TokenIds!.Count);
            Assert.Equal(prefix, p.TokenIds.Take(30));
            Assert.Equal(5, p.MaxTokens);
        });
        Assert.Equal(8, prompts.Select(p => string.Join(',', p.TokenIds!.Skip(30))).Distinct().Count());
        Assert.Equal(prompts.Select(p => p.TokenIds),
            SharedPrefixPrompts.Create(Ordinary, new SharedPrefixShape { PrefixTokens = 30, SuffixTokens = 6 }, 5, 8, new Random(2)).Select(p => p.TokenIds));
    }
}
