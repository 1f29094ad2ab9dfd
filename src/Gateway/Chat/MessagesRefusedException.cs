namespace PdServe.Gateway.Chat;

/// <summary>The model's chat template refused the messages (its <c>raise_exception</c>), e.g. roles that do not alternate.</summary>
public sealed class MessagesRefusedException(string message) : Exception(message);
