namespace PdServe.Engine.Generation;

/// <summary>
/// A request the scheduler admitted for prefill: its samples, seated on the slots from <see cref="FirstSlot"/> on,
/// right after the running batch. They join the batch once the model runner has filled their KV and drawn their
/// first tokens.
/// </summary>
internal sealed record JoiningRequest(PendingRequest Request, int FirstSlot, IReadOnlyList<RunningSequence> Samples);
