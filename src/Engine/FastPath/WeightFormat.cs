namespace PdServe.Engine.FastPath;

/// <summary>How <see cref="PackedWeights"/> stores its elements.</summary>
public enum WeightFormat
{
    /// <summary>IEEE single precision, 4 bytes an element.</summary>
    F32,

    /// <summary>Raw bfloat16 bits, 2 bytes an element; widening to f32 is exact (a 16-bit shift).</summary>
    Bf16,

    /// <summary>
    /// Symmetric int8 in [-127, 127], 1 byte an element, with one f32 scale per row and group of input columns:
    /// w ≈ q · scale.
    /// </summary>
    Int8,
}
