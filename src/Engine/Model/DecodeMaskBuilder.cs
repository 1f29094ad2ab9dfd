using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// Builds the additive attention masks [B, 1, 1, L] of one decode step from each slot's cache length.
/// Most blocks of a step share the same lengths (only blocks whose prompt KV arrived pruned differ), so the
/// last mask is reused while the lengths repeat.
/// </summary>
internal sealed class DecodeMaskBuilder(int batch)
{
    private int[]? lastLengths;
    private Tensor? lastMask;

    /// <param name="lengthsBeforeAppend">Each slot's entry count before this step's token is appended.</param>
    public Tensor ForLengthsAfterAppend(ReadOnlySpan<int> lengthsBeforeAppend)
    {
        if (lastMask is not null && lengthsBeforeAppend.SequenceEqual(lastLengths)) return lastMask;
        lastLengths = lengthsBeforeAppend.ToArray();
        int maxLength = lastLengths.Max() + 1;
        var mask = new float[batch * maxLength];
        for (int b = 0; b < batch; b++)
        {
            for (int p = lastLengths[b] + 1; p < maxLength; p++) mask[b * maxLength + p] = float.NegativeInfinity;
        }
        lastMask = tensor(mask, [batch, 1, 1, maxLength]);
        return lastMask;
    }
}
