namespace PdServe.Pruning.Report;

/// <summary>What <c>pdserve bench pruning</c> measured beside the quality rows: stage speeds and KV bytes per request, with its command and machine.</summary>
public sealed record PruningMeasurements(string Command, string Machine, IReadOnlyList<StageSpeed> Speeds, IReadOnlyList<MeasuredKvBytes> KvBytes);
