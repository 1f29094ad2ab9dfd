using PdServe.ChatTemplates;
using PdServe.ChatTemplates.Errors;

namespace PdServe.Gateway.Chat;

/// <summary>
/// Turns chat messages into prompt token ids: with the tokenizer's chat template when it has one that parses
/// (rendered with <c>messages</c>, <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c>; special tokens come
/// from the template, so none are added when encoding), else with <see cref="PlainChatFormat"/>.
/// </summary>
public sealed class ChatPromptBuilder
{
    private readonly ChatModel model;
    private readonly JinjaTemplate? template;
    private readonly string bosToken;
    private readonly string eosToken;

    public ChatPromptBuilder(ChatModel model, ILogger<ChatPromptBuilder> logger)
    {
        this.model = model;
        var tokenizer = model.Tokenizer;
        bosToken = tokenizer.BosTokenId is { } bos ? tokenizer.Decode([bos], skipSpecialTokens: false) : "";
        eosToken = tokenizer.EosTokenId is { } eos ? tokenizer.Decode([eos], skipSpecialTokens: false) : "";
        if (string.IsNullOrEmpty(tokenizer.ChatTemplate)) return;
        try
        {
            template = JinjaTemplate.Parse(tokenizer.ChatTemplate);
        }
        catch (JinjaException e)
        {
            logger.LogWarning("The chat template of {Model} is outside the supported Jinja subset ({Reason}); using the plain chat format",
                model.Id, e.Message);
        }
    }

    /// <exception cref="MessagesRefusedException">The template's raise_exception refused the messages.</exception>
    /// <exception cref="ChatTemplateFailedException">The template failed while rendering.</exception>
    public IReadOnlyList<int> Build(IReadOnlyList<ChatMessage> messages)
    {
        if (template is null) return model.Tokenizer.Encode(PlainChatFormat.Render(messages));
        string text;
        try
        {
            text = template.Render(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["messages"] = messages.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["role"] = m.Role,
                    ["content"] = m.Content,
                }).ToList(),
                ["add_generation_prompt"] = true,
                ["bos_token"] = bosToken,
                ["eos_token"] = eosToken,
            });
        }
        catch (JinjaRaisedException e)
        {
            throw new MessagesRefusedException(e.Message);
        }
        catch (JinjaException e)
        {
            throw new ChatTemplateFailedException(e.Message);
        }
        return model.Tokenizer.Encode(text, addSpecialTokens: false);
    }
}
