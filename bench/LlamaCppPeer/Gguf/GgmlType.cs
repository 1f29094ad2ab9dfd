namespace LlamaCppPeer.Gguf;

/// <summary>The tensor element types this tool writes, numbered as ggml numbers them in a tensor's info.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}

public static class GgmlTypeSizes
{
    /// <summary>Elements per Q8_0 block: one f16 scale shared by 32 int8 values.</summary>
    public const int Q8_0BlockElements = 32;

    /// <summary>Bytes of one Q8_0 block: the f16 scale, then the 32 int8 values.</summary>
    public const int Q8_0BlockBytes = 2 + Q8_0BlockElements;

    /// <summary>Bytes of one row of <paramref name="elements"/> values (a row is quantized on its own).</summary>
    public static long RowBytes(GgmlType type, long elements) => type switch
    {
        GgmlType.F32 => elements * 4,
        GgmlType.F16 or GgmlType.BF16 => elements * 2,
        GgmlType.Q8_0 when elements % Q8_0BlockElements == 0 => elements / Q8_0BlockElements * Q8_0BlockBytes,
        GgmlType.Q8_0 => throw new ArgumentException($"a Q8_0 row holds whole blocks of {Q8_0BlockElements}, not {elements} values"),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Whether a row of <paramref name="elements"/> values can be stored as <paramref name="type"/>.</summary>
    public static bool Fits(GgmlType type, long elements) => type != GgmlType.Q8_0 || elements % Q8_0BlockElements == 0;
}
