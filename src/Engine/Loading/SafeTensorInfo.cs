namespace PdServe.Engine.Loading;

/// <summary>
/// One tensor's entry in a safetensors header: its dtype string (F32, BF16, ...), shape, and byte range
/// [<see cref="Begin"/>, <see cref="End"/>) relative to the start of the data section.
/// </summary>
public sealed record SafeTensorInfo(string Name, string DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => End - Begin;

    /// <summary>Formats a shape as <c>[a,b]</c>, the form used in load errors.</summary>
    public static string FormatShape(IEnumerable<long> shape) => $"[{string.Join(",", shape)}]";
}
