namespace PdServe.Engine.FastPath;

/// <summary>
/// Per-position cos/sin rows for <see cref="VectorKernels.Rope"/>: row p holds cos(p·fᵢ) and sin(p·fᵢ) for the
/// headDim/2 inverse frequencies fᵢ, angles in double and rounded once to f32 — the values the torch model's
/// RotaryEmbedding tables hold (its rows repeat them for both halves). Give it that class's
/// <c>ComputeInverseFrequencies(config)</c>, which carries the linear and llama3 scalings, so both paths rotate
/// identically. Grown on demand; growing is not thread-safe, so grow before the step that reads it.
/// </summary>
public sealed class RopeTable
{
    private readonly double[] inverseFrequencies;
    private float[] cos = [];
    private float[] sin = [];

    public RopeTable(ReadOnlySpan<double> inverseFrequencies, int positions)
    {
        if (inverseFrequencies.IsEmpty) throw new ArgumentException("a rotary table needs at least one frequency", nameof(inverseFrequencies));
        this.inverseFrequencies = inverseFrequencies.ToArray();
        EnsurePositions(positions);
    }

    /// <summary>headDim / 2: the values in each row.</summary>
    public int Half => inverseFrequencies.Length;
    public int Positions { get; private set; }

    public ReadOnlySpan<float> Cos(int position) => cos.AsSpan(Row(position), Half);
    public ReadOnlySpan<float> Sin(int position) => sin.AsSpan(Row(position), Half);

    /// <summary>Makes rows 0 … <paramref name="positions"/> − 1 available (at least doubling when it grows).</summary>
    public void EnsurePositions(int positions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        if (positions <= Positions) return;
        int grown = Math.Max(positions, Positions * 2);
        var newCos = new float[(long)grown * Half];
        var newSin = new float[(long)grown * Half];
        cos.CopyTo(newCos, 0);
        sin.CopyTo(newSin, 0);
        for (int p = Positions; p < grown; p++)
        {
            for (int i = 0; i < Half; i++)
            {
                double angle = p * inverseFrequencies[i];
                newCos[p * Half + i] = (float)Math.Cos(angle);
                newSin[p * Half + i] = (float)Math.Sin(angle);
            }
        }
        cos = newCos;
        sin = newSin;
        Positions = grown;
    }

    private int Row(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Positions);
        return position * Half;
    }
}
