using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>The dtype strings of the safetensors format, their element sizes, and which of them hold weights.</summary>
public static class SafeTensorsDType
{
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>The floating-point dtypes weights may be stored in.</summary>
    public static IReadOnlyList<string> WeightDTypes { get; } = ["F32", "BF16", "F16"];

    /// <summary>Bytes per element of a known safetensors dtype, or null when the string is not one.</summary>
    public static int? ElementSize(string dtype) => ElementSizes.TryGetValue(dtype, out int size) ? size : null;

    /// <summary>The torch dtype of a weight dtype string (F32, BF16, F16), or null for any other.</summary>
    public static torch.ScalarType? ToScalarType(string dtype) => dtype switch
    {
        "F32" => torch.ScalarType.Float32,
        "BF16" => torch.ScalarType.BFloat16,
        "F16" => torch.ScalarType.Float16,
        _ => null,
    };

    /// <summary>The safetensors dtype string of a torch dtype, or null when the format has none.</summary>
    public static string? FromScalarType(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        torch.ScalarType.Int16 => "I16",
        torch.ScalarType.Int8 => "I8",
        torch.ScalarType.Byte => "U8",
        torch.ScalarType.Bool => "BOOL",
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Float16 => "F16",
        _ => null,
    };
}
