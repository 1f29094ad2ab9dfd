namespace PdServe.Pruning;

/// <summary>How far a long pruning job is: the phase it is in and the fraction of that phase done (0..1).</summary>
public sealed record ProgressUpdate(string Phase, double Fraction);
