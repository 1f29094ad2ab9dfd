namespace PdServe.Gateway.Generation;

/// <summary>A generation that failed or was refused; the message is written for the client (no node addresses).</summary>
public sealed class GenerationException(GenerationFailure failure, string message) : Exception(message)
{
    public GenerationFailure Failure { get; } = failure;
}
