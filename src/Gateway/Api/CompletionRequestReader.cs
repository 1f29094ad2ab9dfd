using System.Text.Json;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// Validates a <c>/v1/completions</c> body. <c>prompt</c> is a string, a list of strings, a list of token ids or a
/// list of token-id lists; strings are tokenized with the model's special tokens (BOS) as <c>pdserve generate</c> does.
/// <c>echo</c> (with <c>max_tokens</c> 0 to score the prompt only), <c>logprobs</c> and vLLM's <c>prompt_logprobs</c>
/// are computed on the prefill node, which has the logits of every prompt position.
/// </summary>
public static class CompletionRequestReader
{
    public static GenerationParameters Read(JsonElement body, ServedModel model, RequestLimits limits)
    {
        SamplingFieldsReader.CheckModel(body, model);
        bool echo = JsonFields.OptionalBool(body, "echo") ?? false;
        if (JsonFields.OptionalString(body, "suffix") is not null)
            throw ApiException.InvalidField("suffix", "'suffix' is not supported");
        int? bestOf = JsonFields.OptionalInt(body, "best_of", 1, limits.MaxN);

        var prompts = ReadPrompts(body, model, limits);
        // max_tokens 0 with echo scores the prompt only (how evaluation harnesses ask for loglikelihoods).
        int? maxTokens = JsonFields.OptionalInt(body, "max_tokens", echo ? 0 : 1, limits.MaxTokens);
        bool promptOnly = maxTokens == 0;
        var budgets = prompts.Select(p => PromptBudget.MaxTokensFor(p, promptOnly ? 1 : maxTokens, "prompt", "max_tokens", model, limits)).ToList();
        int? logprobs = JsonFields.OptionalInt(body, "logprobs", 0, limits.TopLogprobsLimit);
        int? promptLogprobs = JsonFields.OptionalInt(body, "prompt_logprobs", 0, limits.TopLogprobsLimit);

        var parameters = SamplingFieldsReader.Read(body, new GenerationParameters
        {
            Prompts = prompts,
            MaxTokens = budgets,
            Logprobs = logprobs is not null,
            TopLogprobs = logprobs ?? 0,
            Echo = echo,
            PromptOnly = promptOnly,
            PromptLogprobs = promptLogprobs,
        }, limits);
        if (bestOf is { } b && b != parameters.N)
            throw ApiException.InvalidField("best_of", "'best_of' is not supported (only equal to n)");
        if (prompts.Count * parameters.N > limits.MaxN * limits.MaxPrompts)
            throw ApiException.InvalidField("n", "Too many choices for one request");
        return parameters;
    }

    private static List<IReadOnlyList<int>> ReadPrompts(JsonElement body, ServedModel model, RequestLimits limits)
    {
        if (!JsonFields.TryGet(body, "prompt", out var prompt))
            throw ApiException.InvalidField("prompt", "'prompt' is required");
        const string shape = "'prompt' must be a string, a list of strings, a list of token ids or a list of token-id lists";
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return [Encode(JsonFields.Text(prompt, "prompt"), model, limits)];
            case JsonValueKind.Array:
                int count = prompt.GetArrayLength();
                if (count == 0) throw ApiException.InvalidField("prompt", "'prompt' must not be empty");
                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.Number)
                    return [TokenIds(prompt, model, limits)];
                if (count > limits.MaxPrompts)
                    throw ApiException.InvalidField("prompt", $"'prompt' may hold at most {limits.MaxPrompts} prompts");
                var prompts = new List<IReadOnlyList<int>>(count);
                foreach (var item in prompt.EnumerateArray())
                {
                    prompts.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => Encode(JsonFields.Text(item, "prompt"), model, limits),
                        JsonValueKind.Array => TokenIds(item, model, limits),
                        _ => throw ApiException.InvalidField("prompt", shape),
                    });
                }
                return prompts;
            default:
                throw ApiException.InvalidField("prompt", shape);
        }
    }

    private static IReadOnlyList<int> Encode(string text, ServedModel model, RequestLimits limits)
    {
        // Tokenizing costs time. BPE tokens average about four characters, so a text with more than 32 characters per
        // allowed token cannot fit and is refused before the tokenizer runs.
        if (text.Length > limits.MaxPromptTokens * 32L)
            throw ApiException.TooLarge($"The prompt is {text.Length} characters; far over the {limits.MaxPromptTokens}-token limit", "prompt");
        return model.Tokenizer.Encode(text);
    }

    private static IReadOnlyList<int> TokenIds(JsonElement array, ServedModel model, RequestLimits limits)
    {
        if (array.GetArrayLength() > limits.MaxPromptTokens)
            throw ApiException.TooLarge($"The prompt has {array.GetArrayLength()} tokens; the limit is {limits.MaxPromptTokens}", "prompt");
        var ids = new List<int>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                throw ApiException.InvalidField("prompt", "Token ids in 'prompt' must be integers");
            if (id < 0 || id >= model.VocabSize)
                throw ApiException.InvalidField("prompt", $"Token id {id} in 'prompt' is outside the vocabulary (0..{model.VocabSize - 1})");
            ids.Add(id);
        }
        return ids;
    }
}
