using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary>
/// <c>/v1/completions</c>: <c>text_completion</c> objects, logprobs as parallel lists (an echoed prompt's tokens
/// first), and vLLM's <c>prompt_logprobs</c> when asked.
/// </summary>
public sealed class CompletionFormat : IResponseFormat
{
    // Stream chunks have the shape of the whole response.
    private const string Object = "text_completion";

    public string IdPrefix => "cmpl-";

    public IEnumerable<object> OpeningChunks(ResponseIdentity identity, GenerationParameters parameters) => [];

    public object Chunk(ResponseIdentity identity, ChoiceDelta delta, GenerationParameters parameters) =>
        identity.Body<CompletionChoice>(Object,
            [new CompletionChoice(delta.Index, delta.Text, parameters.Logprobs ? Logprobs(delta.Tokens) : null, delta.FinishReason)
            {
                PromptLogprobs = delta.Prompt is { } prompt ? PromptLogprob.Positions(prompt) : null,
            }],
            null);

    public object UsageChunk(ResponseIdentity identity, Usage usage) => identity.Body<CompletionChoice>(Object, [], usage);

    public object Response(ResponseIdentity identity, ChoiceAccumulator choices, GenerationParameters parameters, Usage usage) =>
        identity.Body(Object,
            Enumerable.Range(0, choices.Count).Select(i => new CompletionChoice(i, choices.Text(i),
                parameters.Logprobs ? Logprobs(choices.Tokens(i)) : null, choices.FinishReason(i))
            {
                PromptLogprobs = choices.Prompt(i) is { } prompt ? PromptLogprob.Positions(prompt) : null,
            }).ToList(),
            usage);

    /// <summary>Offsets count from the start of the text these tokens produced (the choice, or the chunk when streaming).</summary>
    private static CompletionLogprobs Logprobs(IReadOnlyList<TokenLogprobInfo> tokens)
    {
        var offsets = new List<int>(tokens.Count);
        int offset = 0;
        foreach (var token in tokens)
        {
            offsets.Add(offset);
            offset += token.Text.Length;
        }
        return new CompletionLogprobs(
            tokens.Select(t => t.Text).ToList(),
            tokens.Select(t => t.Logprob).ToList(),
            tokens.Select(t =>
            {
                if (t.Top is null) return null;
                var top = new Dictionary<string, float>(StringComparer.Ordinal);
                foreach (var alternative in t.Top) top.TryAdd(alternative.Text, alternative.Logprob);
                return top;
            }).ToList(),
            offsets);
    }
}
