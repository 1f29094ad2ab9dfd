using PdServe.Engine.Loading;
using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Model;

/// <summary>
/// Rotary position embedding in the Hugging Face "rotate half" layout: dimension i pairs with i + headDim/2.
/// Cos/sin tables are built on the C# side in double precision and grown on demand, so a model that allows
/// 128k positions does not allocate 128k rows up front.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private const int InitialTableLength = 1024;

    private readonly double[] inverseFrequencies;
    private readonly int headDim;
    private readonly int maxPositions;
    private Tensor cosTable = empty(0);
    private Tensor sinTable = empty(0);
    private int tableLength;

    public RotaryEmbedding(ModelConfig config)
    {
        headDim = config.HeadDim;
        maxPositions = config.MaxPositionEmbeddings;
        inverseFrequencies = ComputeInverseFrequencies(config);
        int half = headDim / 2;
        var permutation = new float[headDim * headDim];
        for (int i = 0; i < half; i++)
        {
            permutation[(i + half) * headDim + i] = -1f; // output i takes -x[i + half]
            permutation[i * headDim + i + half] = 1f;    // output i + half takes x[i]
        }
        rotateHalfMatrix = tensor(permutation, [headDim, headDim]).DetachFromDisposeScope();
    }

    private readonly Tensor rotateHalfMatrix;

    public static double[] ComputeInverseFrequencies(ModelConfig config)
    {
        int half = config.HeadDim / 2;
        var frequencies = new double[half];
        for (int i = 0; i < half; i++)
            frequencies[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim);

        switch (config.RopeScaling)
        {
            case { Type: "linear", Factor: var factor }:
                for (int i = 0; i < half; i++) frequencies[i] /= factor;
                break;
            case { Type: "llama3" } s:
                // Long wavelengths are slowed by the factor, short ones kept, and the band between interpolated.
                double lowFrequencyWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                double highFrequencyWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                for (int i = 0; i < half; i++)
                {
                    double wavelength = 2 * Math.PI / frequencies[i];
                    if (wavelength < highFrequencyWavelength) continue;
                    if (wavelength > lowFrequencyWavelength)
                    {
                        frequencies[i] /= s.Factor;
                        continue;
                    }
                    double smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor)
                                    / (s.HighFreqFactor - s.LowFreqFactor);
                    frequencies[i] = (1 - smooth) * frequencies[i] / s.Factor + smooth * frequencies[i];
                }
                break;
        }
        return frequencies;
    }

    /// <summary>
    /// Rotates <paramref name="x"/> of shape [B, T, heads, headDim] by the positions [B, T] (int64).
    /// Returns a new float32 tensor.
    /// </summary>
    public Tensor Apply(Tensor x, Tensor positions, int maxPosition)
    {
        using var scope = NewDisposeScope();
        long batch = positions.shape[0], time = positions.shape[1];
        (Tensor cosRows, Tensor sinRows) = Rows(positions.reshape(-1), maxPosition);
        Tensor cos = cosRows.view(batch, time, 1, headDim);
        Tensor sin = sinRows.view(batch, time, 1, headDim);
        Tensor xf = x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        int half = headDim / 2;
        Tensor rotated = cat([xf.narrow(-1, half, half).neg(), xf.narrow(-1, 0, half)], -1);
        return (xf * cos).add_(rotated.mul_(sin), HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Rotation matrices [B, headDim, headDim] for one decode step, such that x·R applies RoPE at each
    /// sequence's position. Built once per step and shared by every block: one small matrix product per block
    /// replaces a dozen elementwise operations, which dominate a batch-1 step's overhead.
    /// </summary>
    public Tensor DecodeRotation(Tensor positions, int maxPosition)
    {
        using var scope = NewDisposeScope();
        (Tensor cos, Tensor sin) = Rows(positions.reshape(-1), maxPosition);
        // x·R = x⊙cos + rotate_half(x)⊙sin, where rotate_half(x) = x·P for a signed permutation P.
        Tensor rotation = diag_embed(cos).add_(rotateHalfMatrix.unsqueeze(0) * sin.unsqueeze(1), HeldScalars.One);
        return rotation.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The cos and sin rows of the given positions. A prefill node runs several prompts at once on one model, so
    /// growing the tables and reading them happen under one lock: a reader must never see a disposed table.
    /// </summary>
    private (Tensor Cos, Tensor Sin) Rows(Tensor flatPositions, int maxPosition)
    {
        lock (tableLock)
        {
            EnsureTable(maxPosition + 1);
            return (cosTable.index_select(0, flatPositions), sinTable.index_select(0, flatPositions));
        }
    }

    private readonly Lock tableLock = new();

    private void EnsureTable(int length)
    {
        if (length <= tableLength) return;
        if (length > maxPositions)
            throw new ArgumentOutOfRangeException(nameof(length),
                $"position {length - 1} is beyond the model's max_position_embeddings ({maxPositions})");
        int newLength = Math.Min(maxPositions, Math.Max(length, Math.Max(InitialTableLength, tableLength * 2)));
        int half = headDim / 2;
        var cos = new float[newLength * headDim];
        var sin = new float[newLength * headDim];
        for (int p = 0; p < newLength; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p * inverseFrequencies[i];
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                cos[p * headDim + i] = cos[p * headDim + i + half] = c;
                sin[p * headDim + i] = sin[p * headDim + i + half] = s;
            }
        }
        cosTable.Dispose();
        sinTable.Dispose();
        cosTable = tensor(cos, [newLength, headDim]).DetachFromDisposeScope();
        sinTable = tensor(sin, [newLength, headDim]).DetachFromDisposeScope();
        tableLength = newLength;
    }

    public void Dispose()
    {
        rotateHalfMatrix.Dispose();
        cosTable.Dispose();
        sinTable.Dispose();
    }
}
