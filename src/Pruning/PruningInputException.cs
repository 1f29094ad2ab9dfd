namespace PdServe.Pruning;

/// <summary>Input the pruning tools cannot use (an empty text file, a model too small for the request); the message says why.</summary>
public sealed class PruningInputException(string message) : Exception(message);
