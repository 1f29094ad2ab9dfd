using System.Text;
using System.Text.Json;
using PdServe.Gateway.Chat;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// Validates a <c>/v1/chat/completions</c> body: <c>messages</c> (roles system, developer, user, assistant, tool;
/// content a string or a list of text parts), <c>max_completion_tokens</c> or <c>max_tokens</c>,
/// <c>logprobs</c> + <c>top_logprobs</c>, and the shared sampling fields.
/// </summary>
public static class ChatRequestReader
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    public static GenerationParameters Read(JsonElement body, ServedModel model, ChatPromptBuilder prompts, RequestLimits limits)
    {
        SamplingFieldsReader.CheckModel(body, model);
        if (JsonFields.TryGet(body, "prompt_logprobs", out _))
            throw ApiException.InvalidField("prompt_logprobs", "'prompt_logprobs' is supported on /v1/completions (send the chat's prompt there as token ids)");
        var messages = ReadMessages(body, limits);
        long characters = messages.Sum(m => (long)m.Content.Length);
        if (characters > limits.MaxPromptTokens * 32L)
            throw ApiException.TooLarge($"The messages hold {characters} characters; far over the {limits.MaxPromptTokens}-token limit", "messages");
        var prompt = prompts.Build(messages);

        int? maxCompletionTokens = JsonFields.OptionalInt(body, "max_completion_tokens", 1, limits.MaxTokens);
        string maxTokensField = maxCompletionTokens is null ? "max_tokens" : "max_completion_tokens";
        int? maxTokens = maxCompletionTokens ?? JsonFields.OptionalInt(body, "max_tokens", 1, limits.MaxTokens);
        int budget = PromptBudget.MaxTokensFor(prompt, maxTokens, "messages", maxTokensField, model, limits);

        bool logprobs = JsonFields.OptionalBool(body, "logprobs") ?? false;
        int? topLogprobs = JsonFields.OptionalInt(body, "top_logprobs", 0, limits.TopLogprobsLimit);
        if (topLogprobs is not null && !logprobs)
            throw ApiException.InvalidField("top_logprobs", "'top_logprobs' requires 'logprobs' to be true");

        return SamplingFieldsReader.Read(body, new GenerationParameters
        {
            Prompts = [prompt],
            MaxTokens = [budget],
            Logprobs = logprobs,
            TopLogprobs = topLogprobs ?? 0,
        }, limits);
    }

    /// <summary>The validated <c>messages</c> list (also what <c>/tokenize</c> accepts).</summary>
    public static List<ChatMessage> ReadMessages(JsonElement body, RequestLimits limits)
    {
        if (!JsonFields.TryGet(body, "messages", out var messages))
            throw ApiException.InvalidField("messages", "'messages' is required");
        if (messages.ValueKind != JsonValueKind.Array)
            throw ApiException.InvalidField("messages", "'messages' must be a list of messages");
        int count = messages.GetArrayLength();
        if (count == 0) throw ApiException.InvalidField("messages", "'messages' must not be empty");
        if (count > limits.MaxMessages)
            throw ApiException.InvalidField("messages", $"'messages' may hold at most {limits.MaxMessages} messages");
        var result = new List<ChatMessage>(count);
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string field = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw ApiException.InvalidField(field, $"'{field}' must be an object");
            if (!JsonFields.TryGet(message, "role", out var role) || role.ValueKind != JsonValueKind.String)
                throw ApiException.InvalidField($"{field}.role", $"'{field}.role' is required and must be a string");
            string roleName = JsonFields.Text(role, $"{field}.role");
            if (!Roles.Contains(roleName))
                throw ApiException.InvalidField($"{field}.role",
                    $"'{field}.role' must be one of {string.Join(", ", Roles)}, got '{roleName}'");
            result.Add(new ChatMessage(roleName, ReadContent(message, field, roleName)));
        }
        return result;
    }

    private static string ReadContent(JsonElement message, string field, string role)
    {
        if (!JsonFields.TryGet(message, "content", out var content))
        {
            // An assistant turn may be content-less (it only called tools); an empty turn is the faithful rendering.
            if (role == "assistant") return "";
            throw ApiException.InvalidField($"{field}.content", $"'{field}.content' is required");
        }
        if (content.ValueKind == JsonValueKind.String) return JsonFields.Text(content, $"{field}.content");
        if (content.ValueKind != JsonValueKind.Array)
            throw ApiException.InvalidField($"{field}.content", $"'{field}.content' must be a string or a list of text parts");
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || JsonFields.OptionalString(part, "type") != "text"
                || JsonFields.OptionalString(part, "text") is not { } partText)
                throw ApiException.InvalidField($"{field}.content", $"'{field}.content' parts must be {{\"type\":\"text\",\"text\":...}}; only text is supported");
            text.Append(partText);
        }
        return text.ToString();
    }
}
