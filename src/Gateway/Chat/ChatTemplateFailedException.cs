namespace PdServe.Gateway.Chat;

/// <summary>The model's chat template failed while rendering (an unsupported filter, a type error): the server's fault.</summary>
public sealed class ChatTemplateFailedException(string reason) : Exception($"The model's chat template failed: {reason}");
