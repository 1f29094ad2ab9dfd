using PdServe.Gateway.Generation;

namespace PdServe.Gateway.Api;

/// <summary>How one endpoint's responses look: the completions and chat shapes of the same generated deltas.</summary>
public interface IResponseFormat
{
    string IdPrefix { get; }
    /// <summary>Chunks sent before any text (chat announces the assistant role per choice).</summary>
    IEnumerable<object> OpeningChunks(ResponseIdentity identity, GenerationParameters parameters);
    object Chunk(ResponseIdentity identity, ChoiceDelta delta, GenerationParameters parameters);
    object UsageChunk(ResponseIdentity identity, Usage usage);
    object Response(ResponseIdentity identity, ChoiceAccumulator choices, GenerationParameters parameters, Usage usage);
}

/// <summary>The fields every response and chunk of one request repeats.</summary>
public sealed record ResponseIdentity(string Id, long Created, string Model)
{
    public CompletionObject<TChoice> Body<TChoice>(string objectName, IReadOnlyList<TChoice> choices, Usage? usage) =>
        new(Id, Created, Model, choices, usage, objectName);
}
