namespace PdServe.Engine.Generation;

public enum EngineStepKind
{
    /// <summary>One prompt processed into the cache (a prompt prefilled elsewhere is only copied and not reported).</summary>
    Prefill,
    /// <summary>One decode step of the whole running batch.</summary>
    Decode,
}

/// <summary>What one engine step did and how long it took; <see cref="Sequences"/> is the batch size of a decode step, 1 for a prefill.</summary>
public readonly record struct EngineStep(EngineStepKind Kind, TimeSpan Duration, int Sequences);
