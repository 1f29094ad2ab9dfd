using LlamaCppPeer.Gguf;

namespace LlamaCppPeer.Conversion;

/// <summary>The dtype the GGUF stores the model's matrices in (norms stay f32, as llama.cpp's own converter keeps them).</summary>
public enum WeightDtype
{
    F32,
    F16,
    BF16,
    Q8_0,
}

public static class WeightDtypes
{
    public static WeightDtype Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" or "fp32" => WeightDtype.F32,
        "f16" or "fp16" => WeightDtype.F16,
        "bf16" => WeightDtype.BF16,
        "q8_0" => WeightDtype.Q8_0,
        _ => throw new ArgumentException($"unknown dtype '{text}' (known: f32, f16, bf16, q8_0)"),
    };

    public static string Name(this WeightDtype dtype) => dtype.ToString().ToLowerInvariant();

    public static GgmlType MatrixType(this WeightDtype dtype) => dtype switch
    {
        WeightDtype.F32 => GgmlType.F32,
        WeightDtype.F16 => GgmlType.F16,
        WeightDtype.BF16 => GgmlType.BF16,
        WeightDtype.Q8_0 => GgmlType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>llama.cpp's <c>llama_ftype</c> for <c>general.file_type</c>: what it prints as the model's type.</summary>
    public static uint LlamaFileType(this WeightDtype dtype) => dtype switch
    {
        WeightDtype.F32 => 0,
        WeightDtype.F16 => 1,
        WeightDtype.Q8_0 => 7,
        WeightDtype.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };
}
