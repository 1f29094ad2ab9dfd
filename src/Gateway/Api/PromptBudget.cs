using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// Checks a tokenized prompt against the prompt limit and the model's context, and settles how many tokens may be
/// generated after it: the requested max_tokens (refused if the context cannot hold it) or a default cut to fit.
/// </summary>
public static class PromptBudget
{
    public static int MaxTokensFor(IReadOnlyList<int> prompt, int? requestedMaxTokens, string promptField,
        string maxTokensField, ServedModel model, RequestLimits limits)
    {
        if (prompt.Count == 0)
            throw ApiException.InvalidField(promptField, $"'{promptField}' must not be empty");
        int promptLimit = Math.Min(limits.MaxPromptTokens, model.ContextLength - 1);
        if (prompt.Count > promptLimit)
            throw ApiException.TooLarge(
                $"The prompt has {prompt.Count} tokens; the limit is {promptLimit}", promptField);
        foreach (int id in prompt)
        {
            // Only a tokenizer that knows more tokens than the model has can produce one (token-id prompts are checked as read).
            if (id >= model.VocabSize)
                throw ApiException.InvalidField(promptField, $"The prompt holds token {id}, which the model's vocabulary (0..{model.VocabSize - 1}) lacks");
        }
        int room = model.ContextLength - prompt.Count;
        if (requestedMaxTokens is not { } requested)
            return Math.Min(limits.DefaultMaxTokens, room);
        if (requested > room)
            throw ApiException.InvalidField(maxTokensField,
                $"'{maxTokensField}' is {requested}, but the prompt ({prompt.Count} tokens) leaves room for {room} in the model's context of {model.ContextLength}");
        return requested;
    }
}
