namespace PdServe.Gateway.Generation;

/// <summary>A validated generation request, the same for completions and chat: token prompts and sampling.</summary>
public sealed record GenerationParameters
{
    /// <summary>One or more prompts (completions accept a list); each is generated <see cref="N"/> times.</summary>
    public required IReadOnlyList<IReadOnlyList<int>> Prompts { get; init; }
    /// <summary>Per prompt: the most tokens each sample may generate (already cut to the context's room).</summary>
    public required IReadOnlyList<int> MaxTokens { get; init; }
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; }
    public ulong? Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public int N { get; init; } = 1;
    public bool Logprobs { get; init; }
    public int TopLogprobs { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    /// <summary>vLLM's extension: keep generating past the end-of-sequence token (max_tokens and stop strings still end it).</summary>
    public bool IgnoreEos { get; init; }
    /// <summary>Completions' echo: each choice starts with its prompt's text (and its tokens' logprobs, with logprobs).</summary>
    public bool Echo { get; init; }
    /// <summary>Echo with max_tokens 0: score the prompt only; the one token the nodes generate is not returned.</summary>
    public bool PromptOnly { get; init; }
    /// <summary>vLLM's prompt_logprobs: each choice reports its prompt tokens' logprobs with this many alternatives.</summary>
    public int? PromptLogprobs { get; init; }

    /// <summary>What the nodes are asked to score the prompt with: echo + logprobs, prompt_logprobs, or nothing.</summary>
    public int? NodePromptLogprobs =>
        Echo && Logprobs ? Math.Max(TopLogprobs, PromptLogprobs ?? 0) : PromptLogprobs;

    public int ChoiceCount => Prompts.Count * N;
}
