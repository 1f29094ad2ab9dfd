namespace PdServe.Pruning.Objectives;

/// <summary>The decode objective's KL to the unpruned model and the mean loss on the same positions (nats per token).</summary>
public sealed record DecodeMeasurement(double Kl, double Loss);
