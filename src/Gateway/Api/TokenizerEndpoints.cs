using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using PdServe.Gateway.Chat;
using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// vLLM's <c>POST /tokenize</c> (a <c>prompt</c>, or chat <c>messages</c> rendered as a chat completion would be) and
/// <c>POST /detokenize</c>, with the served model's own tokenizer: what a client needs to count, build or read token
/// prompts for whatever model the server runs.
/// </summary>
public sealed class TokenizerEndpoints(ServedModel model, ChatPromptBuilder chatPrompts, IOptionsMonitor<RequestLimits> limits)
{
    public async Task<IResult> TokenizeAsync(HttpContext context)
    {
        RequestLimits current = limits.CurrentValue;
        using JsonDocument document = await RequestBodyReader.ReadObjectAsync(context, current.MaxBodyBytes);
        JsonElement body = document.RootElement;
        CheckModelIfNamed(body);
        bool hasPrompt = JsonFields.TryGet(body, "prompt", out JsonElement prompt);
        bool hasMessages = JsonFields.TryGet(body, "messages", out _);
        if (hasPrompt == hasMessages)
            throw ApiException.InvalidField(hasPrompt ? "messages" : "prompt", "Give exactly one of 'prompt' and 'messages'");
        IReadOnlyList<int> tokens;
        if (hasPrompt)
        {
            if (prompt.ValueKind != JsonValueKind.String) throw ApiException.InvalidField("prompt", "'prompt' must be a string");
            string text = JsonFields.Text(prompt, "prompt");
            if (text.Length > current.MaxPromptTokens * 32L)
                throw ApiException.TooLarge($"The prompt is {text.Length} characters; far over the {current.MaxPromptTokens}-token limit", "prompt");
            tokens = model.Tokenizer.Encode(text, JsonFields.OptionalBool(body, "add_special_tokens") ?? true);
        }
        else
        {
            if (JsonFields.OptionalBool(body, "add_generation_prompt") == false)
                throw ApiException.InvalidField("add_generation_prompt", "Only add_generation_prompt true is supported (the chat endpoint always adds it)");
            tokens = chatPrompts.Build(ChatRequestReader.ReadMessages(body, current));
        }
        bool tokenStrings = JsonFields.OptionalBool(body, "return_token_strs") ?? false;
        return Results.Json(new TokenizeResponse(tokens.Count, model.ContextLength, tokens,
            tokenStrings ? tokens.Select(t => model.Tokenizer.Decode([t], skipSpecialTokens: false)).ToList() : null), GatewayJson.Options);
    }

    public async Task<IResult> DetokenizeAsync(HttpContext context)
    {
        using JsonDocument document = await RequestBodyReader.ReadObjectAsync(context, limits.CurrentValue.MaxBodyBytes);
        JsonElement body = document.RootElement;
        CheckModelIfNamed(body);
        if (!JsonFields.TryGet(body, "tokens", out JsonElement tokens) || tokens.ValueKind != JsonValueKind.Array)
            throw ApiException.InvalidField("tokens", "'tokens' is required and must be a list of token ids");
        var ids = new List<int>(tokens.GetArrayLength());
        foreach (JsonElement item in tokens.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                throw ApiException.InvalidField("tokens", "Token ids in 'tokens' must be integers");
            if (id < 0 || id >= model.VocabSize)
                throw ApiException.InvalidField("tokens", $"Token id {id} is outside the vocabulary (0..{model.VocabSize - 1})");
            ids.Add(id);
        }
        return Results.Json(new DetokenizeResponse(model.Tokenizer.Decode(ids)), GatewayJson.Options);
    }

    private void CheckModelIfNamed(JsonElement body)
    {
        if (JsonFields.TryGet(body, "model", out _)) SamplingFieldsReader.CheckModel(body, model);
    }

    private sealed record TokenizeResponse(
        [property: JsonPropertyName("count")] int Count,
        [property: JsonPropertyName("max_model_len")] int MaxModelLength,
        [property: JsonPropertyName("tokens")] IReadOnlyList<int> Tokens,
        [property: JsonPropertyName("token_strs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? TokenStrings);

    private sealed record DetokenizeResponse([property: JsonPropertyName("prompt")] string Prompt);
}
