namespace PdServe.Gateway.Chat;

/// <summary>One message of a chat request, its content already flattened to text.</summary>
public sealed record ChatMessage(string Role, string Content);
