using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Turns a reply's text back into token ids, so the next turn of a conversation is sent as ids that extend the
/// previous prompt exactly. The completions API returns text, not the generated ids, so a reply is re-tokenized — by
/// the <c>--tokenizer</c> directory or the server's <c>/tokenize</c> — and may split differently from what the model
/// generated (the prompt part of the history is always exact; only the reply's ids can differ, which a server's
/// conversation cache then sees as a shorter match).
/// </summary>
public sealed class ReplyTokenizer
{
    private readonly Func<string, CancellationToken, Task<IReadOnlyList<int>>> encode;

    private ReplyTokenizer(Func<string, CancellationToken, Task<IReadOnlyList<int>>> encode) => this.encode = encode;

    public static ReplyTokenizer Local(TextTokenizer tokenizer) =>
        new((text, _) => Task.FromResult(tokenizer.Encode(text, addSpecialTokens: false)));

    public static ReplyTokenizer Server(HttpClient http, Uri baseUrl, string model, string? apiKey) =>
        new(async (text, cancellationToken) => await TokenizeEndpoint.EncodeAsync(http, baseUrl, model, apiKey, text, cancellationToken));

    /// <summary>The ids of <paramref name="text"/> without special tokens; none for an empty reply (no round trip).</summary>
    public Task<IReadOnlyList<int>> EncodeAsync(string text, CancellationToken cancellationToken) =>
        text.Length == 0 ? Task.FromResult<IReadOnlyList<int>>([]) : encode(text, cancellationToken);
}
