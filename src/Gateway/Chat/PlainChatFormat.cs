using System.Text;

namespace PdServe.Gateway.Chat;

/// <summary>
/// The chat format for models whose tokenizer_config.json has no chat_template (base models): one line per message,
/// <c>"Role: content"</c>, then <c>"Assistant:"</c> for the model to continue. The prompt is encoded with the
/// tokenizer's own special tokens (BOS), as a completion prompt would be.
/// </summary>
public static class PlainChatFormat
{
    public static string Render(IReadOnlyList<ChatMessage> messages)
    {
        var text = new StringBuilder();
        foreach (var message in messages)
            text.Append(RoleLabel(message.Role)).Append(": ").Append(message.Content).Append('\n');
        return text.Append("Assistant:").ToString();
    }

    private static string RoleLabel(string role) =>
        role.Length == 0 ? role : char.ToUpperInvariant(role[0]) + role[1..];
}
