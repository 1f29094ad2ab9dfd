using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PdServe.Engine.FastPath;

/// <summary>
/// The activation-quantized int8 micro-kernel (AVX-VNNI, 256-bit vpdpbusd: u8 × s8 summed in fours into s32).
/// One 64-byte int8 block is two 256-bit halves (rows 0–1 and rows 2–3, 16 columns each) and the input row's 16
/// quantized columns are broadcast to both 128-bit lanes, so lane j of a half holds the dot of one weight row with
/// columns 4j … 4j+3. vpdpbusd needs an unsigned operand: the weights are offset by +128 (an XOR of the sign bit)
/// and the activations stay signed, so the offset's contribution, 128·Σx over each lane's columns, depends on the
/// activations only and is subtracted exactly in integers (<see cref="Int8Activations"/> precomputes it). Each
/// group's exact integer dot is then converted and scaled by weight scale × activation scale into f32 lanes.
/// </summary>
internal static unsafe class VnniTile
{
    public const int MaxWidth = 4;

    /// <summary>
    /// Adds groups [firstGroup, firstGroup + groups) of the tile into <paramref name="acc"/> ([input row · 2 + half]:
    /// lanes 0–3 weight row 2·half, lanes 4–7 row 2·half+1). <paramref name="tile"/> is the tile's block 0 and
    /// <paramref name="tileScales"/> its group-0 scales; <paramref name="q"/>, <paramref name="s"/> and
    /// <paramref name="c"/> are each input row's quantized values, scales and offset corrections (row bases).
    /// </summary>
    public static void Accumulate<TWidth>(byte* tile, float* tileScales, int groupBlocks, int totalBlocks, int firstGroup, int groups,
        sbyte** q, float** s, int** c, Vector256<float>* acc)
        where TWidth : struct, BatchWidth.IWidth
    {
        int width = TWidth.Value;
        Vector256<float> f00 = acc[0], f01 = acc[1];
        Vector256<float> f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        if (width > 1) (f10, f11) = (acc[2], acc[3]);
        if (width > 2) (f20, f21) = (acc[4], acc[5]);
        if (width > 3) (f30, f31) = (acc[6], acc[7]);
        sbyte* q0 = q[0];
        sbyte* q1 = width > 1 ? q[1] : null;
        sbyte* q2 = width > 2 ? q[2] : null;
        sbyte* q3 = width > 3 ? q[3] : null;
        Vector256<sbyte> signBit = Vector256.Create(unchecked((sbyte)0x80));
        Vector256<int> firstPair = Vector256.Create(0, 0, 0, 0, 1, 1, 1, 1);
        Vector256<int> secondPair = Vector256.Create(2, 2, 2, 2, 3, 3, 3, 3);

        for (int g = firstGroup; g < firstGroup + groups; g++)
        {
            int firstBlock = g * groupBlocks;
            int count = Math.Min(groupBlocks, totalBlocks - firstBlock);
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default;
            Vector256<int> i20 = default, i21 = default, i30 = default, i31 = default;
            byte* p = tile + (nint)firstBlock * 64;
            nint k = (nint)firstBlock * 16;
            for (int b = 0; b < count; b++, p += 64, k += 16)
            {
                Vector256<byte> w01 = (Vector256.Load((sbyte*)p) ^ signBit).AsByte();
                Vector256<byte> w23 = (Vector256.Load((sbyte*)p + 32) ^ signBit).AsByte();
                Vector256<sbyte> v = Avx2.BroadcastVector128ToVector256(q0 + k);
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, w01, v);
                i01 = AvxVnni.MultiplyWideningAndAdd(i01, w23, v);
                if (width > 1)
                {
                    v = Avx2.BroadcastVector128ToVector256(q1 + k);
                    i10 = AvxVnni.MultiplyWideningAndAdd(i10, w01, v);
                    i11 = AvxVnni.MultiplyWideningAndAdd(i11, w23, v);
                }
                if (width > 2)
                {
                    v = Avx2.BroadcastVector128ToVector256(q2 + k);
                    i20 = AvxVnni.MultiplyWideningAndAdd(i20, w01, v);
                    i21 = AvxVnni.MultiplyWideningAndAdd(i21, w23, v);
                }
                if (width > 3)
                {
                    v = Avx2.BroadcastVector128ToVector256(q3 + k);
                    i30 = AvxVnni.MultiplyWideningAndAdd(i30, w01, v);
                    i31 = AvxVnni.MultiplyWideningAndAdd(i31, w23, v);
                }
            }

            // The weight scales of rows 0..3 spread over the lanes that hold each row.
            Vector128<float> rowScales = Vector128.Load(tileScales + g * 4);
            Vector256<float> both = Vector256.Create(rowScales, rowScales);
            Vector256<float> scales01 = Avx2.PermuteVar8x32(both, firstPair);
            Vector256<float> scales23 = Avx2.PermuteVar8x32(both, secondPair);
            (f00, f01) = Scale(i00, i01, scales01, scales23, s[0][g], c[0] + g * 4, f00, f01);
            if (width > 1) (f10, f11) = Scale(i10, i11, scales01, scales23, s[1][g], c[1] + g * 4, f10, f11);
            if (width > 2) (f20, f21) = Scale(i20, i21, scales01, scales23, s[2][g], c[2] + g * 4, f20, f21);
            if (width > 3) (f30, f31) = Scale(i30, i31, scales01, scales23, s[3][g], c[3] + g * 4, f30, f31);
        }

        (acc[0], acc[1]) = (f00, f01);
        if (width > 1) (acc[2], acc[3]) = (f10, f11);
        if (width > 2) (acc[4], acc[5]) = (f20, f21);
        if (width > 3) (acc[6], acc[7]) = (f30, f31);
    }

    private static (Vector256<float>, Vector256<float>) Scale(Vector256<int> first, Vector256<int> second,
        Vector256<float> scales01, Vector256<float> scales23, float inputScale, int* correction,
        Vector256<float> acc01, Vector256<float> acc23)
    {
        Vector256<int> offset = Avx2.BroadcastVector128ToVector256(correction);
        Vector256<float> x = Vector256.Create(inputScale);
        acc01 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(first - offset), scales01 * x, acc01);
        acc23 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(second - offset), scales23 * x, acc23);
        return (acc01, acc23);
    }
}
