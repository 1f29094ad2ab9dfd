namespace PdServe.KvTransfer.Connector;

/// <summary>One layer a transfer sends and the prompt positions it keeps, strictly ascending.</summary>
public sealed record KeptLayer(int Layer, IReadOnlyList<int> Positions);
