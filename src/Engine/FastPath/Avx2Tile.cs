using System.Runtime.Intrinsics;

namespace PdServe.Engine.FastPath;

/// <summary>
/// The AVX2 micro-kernel: one tile of 4 weight rows against up to 2 input rows (AVX2 has 16 ymm registers: 8
/// accumulators, the inputs and a weight vector), each 16-column block as two 8-lane halves folded into the same
/// accumulator.
/// </summary>
internal static unsafe class Avx2Tile
{
    public const int MaxWidth = 2;

    /// <summary>As <see cref="Avx512Tile.Accumulate"/>, with 8-lane accumulators.</summary>
    public static void Accumulate<TFormat, TWidth>(byte* weights, float* scales, int groupBlocks, int firstBlock, int blocks,
        float** x, Vector256<float>* acc)
        where TFormat : struct, BlockFormat.IFormat
        where TWidth : struct, BatchWidth.IWidth
    {
        int width = TWidth.Value;
        int rowBytes = TFormat.RowBytes;
        int blockBytes = 4 * rowBytes;
        Vector256<float> a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3];
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        if (width > 1) (a10, a11, a12, a13) = (acc[4], acc[5], acc[6], acc[7]);
        float* x0 = x[0];
        float* x1 = width > 1 ? x[1] : null;

        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        float* groupScales = null;
        int left = 0;
        if (TFormat.HasScales)
        {
            groupScales = scales + firstBlock / groupBlocks * 4;
            left = groupBlocks - firstBlock % groupBlocks;
            (s0, s1, s2, s3) = (Vector256.Create(groupScales[0]), Vector256.Create(groupScales[1]),
                Vector256.Create(groupScales[2]), Vector256.Create(groupScales[3]));
        }

        byte* p = weights;
        for (int b = 0; b < blocks; b++, p += blockBytes)
        {
            if (TFormat.HasScales)
            {
                if (left == 0)
                {
                    groupScales += 4;
                    left = groupBlocks;
                    (s0, s1, s2, s3) = (Vector256.Create(groupScales[0]), Vector256.Create(groupScales[1]),
                        Vector256.Create(groupScales[2]), Vector256.Create(groupScales[3]));
                }
                left--;
            }
            nint k = (nint)b * 16;
            for (int half = 0; half < 2; half++)
            {
                Vector256<float> w0 = TFormat.Load256(p, half, s0);
                Vector256<float> w1 = TFormat.Load256(p + rowBytes, half, s1);
                Vector256<float> w2 = TFormat.Load256(p + 2 * rowBytes, half, s2);
                Vector256<float> w3 = TFormat.Load256(p + 3 * rowBytes, half, s3);
                Vector256<float> v = Vector256.Load(x0 + k + 8 * half);
                a00 = Vector256.FusedMultiplyAdd(w0, v, a00);
                a01 = Vector256.FusedMultiplyAdd(w1, v, a01);
                a02 = Vector256.FusedMultiplyAdd(w2, v, a02);
                a03 = Vector256.FusedMultiplyAdd(w3, v, a03);
                if (width > 1)
                {
                    v = Vector256.Load(x1 + k + 8 * half);
                    a10 = Vector256.FusedMultiplyAdd(w0, v, a10);
                    a11 = Vector256.FusedMultiplyAdd(w1, v, a11);
                    a12 = Vector256.FusedMultiplyAdd(w2, v, a12);
                    a13 = Vector256.FusedMultiplyAdd(w3, v, a13);
                }
            }
        }

        (acc[0], acc[1], acc[2], acc[3]) = (a00, a01, a02, a03);
        if (width > 1) (acc[4], acc[5], acc[6], acc[7]) = (a10, a11, a12, a13);
    }
}
