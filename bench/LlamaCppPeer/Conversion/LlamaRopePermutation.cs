namespace LlamaCppPeer.Conversion;

/// <summary>
/// Reorders the rows of a Hugging Face Llama q or k projection for llama.cpp's RoPE. Hugging Face rotates the pair
/// (i, i + d/2) of each head of d dimensions (its "rotate_half"); llama.cpp's llama architecture rotates adjacent
/// pairs (2i, 2i + 1). Putting old row i at 2i and old row i + d/2 at 2i + 1, head by head, makes llama.cpp rotate
/// exactly the pairs Hugging Face rotates, with the same frequency for pair i. The attention scores are unchanged by
/// the reordering because q and k get the same one.
/// </summary>
public static class LlamaRopePermutation
{
    /// <param name="weight">Row-major [heads · headDim, columns].</param>
    public static float[] Apply(ReadOnlySpan<float> weight, int heads, int headDim, int columns)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"head_dim {headDim} must be even for RoPE", nameof(headDim));
        if (weight.Length != (long)heads * headDim * columns)
            throw new ArgumentException($"{weight.Length} values are not [{heads}·{headDim}, {columns}]", nameof(weight));
        var permuted = new float[weight.Length];
        int half = headDim / 2;
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < half; i++)
            {
                for (int j = 0; j < 2; j++)
                {
                    int from = head * headDim + j * half + i;
                    int to = head * headDim + 2 * i + j;
                    weight.Slice(from * columns, columns).CopyTo(permuted.AsSpan(to * columns, columns));
                }
            }
        }
        return permuted;
    }
}
