using System.Text;
using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary><c>/v1/chat/completions</c>: assistant messages, streamed as deltas; logprobs per token with bytes.</summary>
public sealed class ChatFormat : IResponseFormat
{
    private const string ChunkObject = "chat.completion.chunk";

    public string IdPrefix => "chatcmpl-";

    public IEnumerable<object> OpeningChunks(ResponseIdentity identity, GenerationParameters parameters) =>
        Enumerable.Range(0, parameters.ChoiceCount).Select(i => (object)identity.Body<ChatChunkChoice>(ChunkObject,
            [new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)], null));

    public object Chunk(ResponseIdentity identity, ChoiceDelta delta, GenerationParameters parameters) =>
        identity.Body<ChatChunkChoice>(ChunkObject,
            [new ChatChunkChoice(delta.Index, new ChatDelta(null, delta.Text),
                parameters.Logprobs ? Logprobs(delta.Tokens) : null, delta.FinishReason)],
            null);

    public object UsageChunk(ResponseIdentity identity, Usage usage) => identity.Body<ChatChunkChoice>(ChunkObject, [], usage);

    public object Response(ResponseIdentity identity, ChoiceAccumulator choices, GenerationParameters parameters, Usage usage) =>
        identity.Body("chat.completion",
            Enumerable.Range(0, choices.Count).Select(i => new ChatChoice(i, new ChatResponseMessage("assistant", choices.Text(i)),
                parameters.Logprobs ? Logprobs(choices.Tokens(i)) : null, choices.FinishReason(i))).ToList(),
            usage);

    private static ChatLogprobs Logprobs(IReadOnlyList<TokenLogprobInfo> tokens) =>
        new(tokens.Select(t => new ChatTokenLogprob(t.Text, t.Logprob ?? throw Unscored(), Bytes(t.Text),
            (t.Top ?? throw Unscored()).Select(a => new ChatTopLogprob(a.Text, a.Logprob, Bytes(a.Text))).ToList())).ToList());

    /// <summary>Only an echoed prompt has an unscored token, and chat does not echo.</summary>
    private static InvalidOperationException Unscored() => new("a chat choice holds only generated tokens, each scored");

    private static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
}
