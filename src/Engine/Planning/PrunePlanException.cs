namespace PdServe.Engine.Planning;

/// <summary>A prune plan that cannot be used: unreadable, invalid, or made for other weights. The message says why.</summary>
public sealed class PrunePlanException(string message) : Exception(message);
