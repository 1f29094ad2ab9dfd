using PdServe.Engine.Sampling;

namespace PdServe.Engine.Generation;

/// <summary>One sample being decoded: its cache slot, its last token and position, and its sampler.</summary>
internal sealed class RunningSequence(PendingRequest request, int sampleIndex, SequenceSampler sampler) : IDisposable
{
    public PendingRequest Request { get; } = request;
    public int SampleIndex { get; } = sampleIndex;
    public SequenceSampler Sampler { get; } = sampler;
    public int Slot { get; set; }
    /// <summary>The last sampled token, fed to the next decode step.</summary>
    public int LastToken { get; set; }
    public int GeneratedCount { get; set; }
    /// <summary>True position of <see cref="LastToken"/>.</summary>
    public int LastTokenPosition => Request.Request.PromptTokenIds.Count + GeneratedCount - 1;

    public void Dispose() => Sampler.Dispose();
}
