using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PdServe.Engine.FastPath;

/// <summary>
/// The AVX-512 micro-kernel: one tile of 4 weight rows against up to 4 input rows, 16 columns a step. Per block it
/// loads each weight row once (one 512-bit vector, widened for bf16/int8) and each input row once, and does the
/// 4 × width multiply-adds in registers (16 accumulators at width 4, of the 32 zmm registers).
/// </summary>
internal static unsafe class Avx512Tile
{
    public const int MaxWidth = 4;

    /// <summary>
    /// How far ahead of the block being multiplied the loop asks for weight bytes: without it a batch-1 step waits on
    /// loads the hardware prefetcher starts too late (bench/RESULTS.md, "Software prefetch in the GEMV loop": the sweep
    /// that chose 4 KiB). A prefetch past the matrix's end is harmless: it never faults.
    /// </summary>
    private const int PrefetchBytes = 4096;

    /// <summary>
    /// Adds blocks [firstBlock, firstBlock + blocks) of the tile into <paramref name="acc"/> ([input row · 4 + weight
    /// row], one lane per column of a block). <paramref name="weights"/> points at block firstBlock;
    /// <paramref name="x"/>[i] at column 16·firstBlock of input row i; <paramref name="scales"/> at the tile's
    /// group 0 (int8 only).
    /// </summary>
    public static void Accumulate<TFormat, TWidth>(byte* weights, float* scales, int groupBlocks, int firstBlock, int blocks,
        float** x, Vector512<float>* acc)
        where TFormat : struct, BlockFormat.IFormat
        where TWidth : struct, BatchWidth.IWidth
    {
        int width = TWidth.Value;
        int rowBytes = TFormat.RowBytes;
        int blockBytes = 4 * rowBytes;
        Vector512<float> a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3];
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        if (width > 1) (a10, a11, a12, a13) = (acc[4], acc[5], acc[6], acc[7]);
        if (width > 2) (a20, a21, a22, a23) = (acc[8], acc[9], acc[10], acc[11]);
        if (width > 3) (a30, a31, a32, a33) = (acc[12], acc[13], acc[14], acc[15]);
        float* x0 = x[0];
        float* x1 = width > 1 ? x[1] : null;
        float* x2 = width > 2 ? x[2] : null;
        float* x3 = width > 3 ? x[3] : null;

        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        float* groupScales = null;
        int left = 0;
        if (TFormat.HasScales)
        {
            groupScales = scales + firstBlock / groupBlocks * 4;
            left = groupBlocks - firstBlock % groupBlocks;
            (s0, s1, s2, s3) = (Vector512.Create(groupScales[0]), Vector512.Create(groupScales[1]),
                Vector512.Create(groupScales[2]), Vector512.Create(groupScales[3]));
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
                    (s0, s1, s2, s3) = (Vector512.Create(groupScales[0]), Vector512.Create(groupScales[1]),
                        Vector512.Create(groupScales[2]), Vector512.Create(groupScales[3]));
                }
                left--;
            }
            Sse.Prefetch0(p + PrefetchBytes);
            Vector512<float> w0 = TFormat.Load512(p, s0);
            Vector512<float> w1 = TFormat.Load512(p + rowBytes, s1);
            Vector512<float> w2 = TFormat.Load512(p + 2 * rowBytes, s2);
            Vector512<float> w3 = TFormat.Load512(p + 3 * rowBytes, s3);
            nint k = (nint)b * 16;
            Vector512<float> v = Vector512.Load(x0 + k);
            a00 = Vector512.FusedMultiplyAdd(w0, v, a00);
            a01 = Vector512.FusedMultiplyAdd(w1, v, a01);
            a02 = Vector512.FusedMultiplyAdd(w2, v, a02);
            a03 = Vector512.FusedMultiplyAdd(w3, v, a03);
            if (width > 1)
            {
                v = Vector512.Load(x1 + k);
                a10 = Vector512.FusedMultiplyAdd(w0, v, a10);
                a11 = Vector512.FusedMultiplyAdd(w1, v, a11);
                a12 = Vector512.FusedMultiplyAdd(w2, v, a12);
                a13 = Vector512.FusedMultiplyAdd(w3, v, a13);
            }
            if (width > 2)
            {
                v = Vector512.Load(x2 + k);
                a20 = Vector512.FusedMultiplyAdd(w0, v, a20);
                a21 = Vector512.FusedMultiplyAdd(w1, v, a21);
                a22 = Vector512.FusedMultiplyAdd(w2, v, a22);
                a23 = Vector512.FusedMultiplyAdd(w3, v, a23);
            }
            if (width > 3)
            {
                v = Vector512.Load(x3 + k);
                a30 = Vector512.FusedMultiplyAdd(w0, v, a30);
                a31 = Vector512.FusedMultiplyAdd(w1, v, a31);
                a32 = Vector512.FusedMultiplyAdd(w2, v, a32);
                a33 = Vector512.FusedMultiplyAdd(w3, v, a33);
            }
        }

        (acc[0], acc[1], acc[2], acc[3]) = (a00, a01, a02, a03);
        if (width > 1) (acc[4], acc[5], acc[6], acc[7]) = (a10, a11, a12, a13);
        if (width > 2) (acc[8], acc[9], acc[10], acc[11]) = (a20, a21, a22, a23);
        if (width > 3) (acc[12], acc[13], acc[14], acc[15]) = (a30, a31, a32, a33);
    }
}
