using PdServe.Cli.Terminal;
using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The requests of one serving run: the warm-up prompts and each rate's workload — prompts (random, jsonl,
/// shared-prefix) or conversations (multiturn). Generated datasets draw everything from one stream seeded by
/// <c>--seed</c>: the warm-up first, then every rate's requests, so no rate repeats another's prompts and the warm-up
/// shares nothing with them — a server's prefix cache cannot turn a repeat into a hit the workload does not have.
/// </summary>
public sealed record BenchDataset
{
    /// <summary>Sent before the first rate and not counted.</summary>
    public required IReadOnlyList<BenchPrompt> Warmup { get; init; }
    /// <summary>Per rate, the prompts it sends; null for the multiturn dataset.</summary>
    public IReadOnlyList<IReadOnlyList<BenchPrompt>>? PromptsPerRate { get; init; }
    /// <summary>Per rate, the conversations it holds (multiturn); null for the others.</summary>
    public IReadOnlyList<IReadOnlyList<Conversation>>? ConversationsPerRate { get; init; }

    public const string RandomDataset = "random";
    public const string MultiturnDataset = "multiturn";
    public const string SharedPrefixDataset = "shared-prefix";
    public const string JsonlPrefix = "jsonl:";

    public static bool IsKnown(string dataset) =>
        dataset is RandomDataset or MultiturnDataset or SharedPrefixDataset || dataset.StartsWith(JsonlPrefix, StringComparison.Ordinal);

    /// <summary>
    /// The dataset <paramref name="options"/> name; generated ones draw ordinary ids of <paramref name="localTokenizer"/>
    /// (<c>--tokenizer</c>) or, without one, of the server's <c>/tokenize</c>.
    /// </summary>
    public static async Task<BenchDataset> LoadAsync(ServeBenchOptions options, TextTokenizer? localTokenizer, HttpClient http, Uri baseUrl,
        string model, CancellationToken cancellationToken)
    {
        int rates = options.Rates.Count;
        if (options.Dataset.StartsWith(JsonlPrefix, StringComparison.Ordinal))
        {
            // A file is the user's workload as it stands: every rate sends it, the warm-up replays its first lines.
            var lines = JsonlPrompts.Load(options.Dataset[JsonlPrefix.Length..], options.OutputLength, options.NumPrompts);
            return new BenchDataset
            {
                Warmup = Enumerable.Range(0, options.WarmupRequests).Select(i => lines[i % lines.Count]).ToList(),
                PromptsPerRate = Enumerable.Repeat(lines, rates).ToList(),
            };
        }
        if (!IsKnown(options.Dataset))
            throw new CliError($"--dataset must be random, multiturn, shared-prefix or jsonl:FILE, got '{options.Dataset}'");

        IReadOnlyList<int> ordinary = localTokenizer is not null
            ? RandomPrompts.OrdinaryIds(localTokenizer)
            : await ServerTokenPool.OrdinaryTokenIdsAsync(http, baseUrl, model, options.ApiKey, cancellationToken);
        var random = new Random(options.Seed);
        var warmup = RandomPrompts.Create(ordinary, WarmupLength(options), options.OutputLength, 0, options.WarmupRequests, random);
        switch (options.Dataset)
        {
            case MultiturnDataset:
                int conversations = options.Conversation.Conversations;
                var all = MultiturnConversations.Create(ordinary, options.Conversation, options.OutputLength, conversations * rates, random);
                return new BenchDataset { Warmup = warmup, ConversationsPerRate = Slices(all, conversations) };
            case SharedPrefixDataset:
                return new BenchDataset
                {
                    Warmup = warmup,
                    PromptsPerRate = Slices(SharedPrefixPrompts.Create(ordinary, options.SharedPrefix, options.OutputLength, options.NumPrompts * rates, random),
                        options.NumPrompts),
                };
            default:
                return new BenchDataset
                {
                    Warmup = warmup,
                    PromptsPerRate = Slices(RandomPrompts.Create(ordinary, options.InputLength, options.OutputLength, options.RangeRatio,
                        options.NumPrompts * rates, random), options.NumPrompts),
                };
        }
    }

    /// <summary>Requests of each rate.</summary>
    public int RequestsPerRate(int rate) =>
        ConversationsPerRate is { } conversations ? conversations[rate].Sum(c => c.Turns) : PromptsPerRate![rate].Count;

    /// <summary>Warm-up prompts as long as the dataset's first requests, so they warm the same shapes.</summary>
    private static int WarmupLength(ServeBenchOptions options) => options.Dataset switch
    {
        MultiturnDataset => Math.Max(1, options.Conversation.SystemTokens + options.Conversation.UserTokens),
        SharedPrefixDataset => options.SharedPrefix.PrefixTokens + options.SharedPrefix.SuffixTokens,
        _ => options.InputLength,
    };

    private static IReadOnlyList<IReadOnlyList<T>> Slices<T>(IReadOnlyList<T> all, int size) =>
        Enumerable.Range(0, all.Count / size).Select(i => (IReadOnlyList<T>)all.Skip(i * size).Take(size).ToList()).ToList();
}
