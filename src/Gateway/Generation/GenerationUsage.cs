namespace PdServe.Gateway.Generation;

/// <summary>Token counts of a finished request, as OpenAI's <c>usage</c> reports them.</summary>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
