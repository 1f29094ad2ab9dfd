using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PdServe.Engine.FastPath;

/// <summary>
/// How one row of a 16-column block of <see cref="PackedWeights"/> becomes f32 lanes. The matrix kernels are
/// generic over these structs, so the JIT compiles one specialised loop per format with the load inlined: the
/// bf16 and int8 loops are the f32 loop plus a widening, which is what makes them bitwise equal to the f32 loop on
/// the widened (dequantized) values.
/// </summary>
internal static unsafe class BlockFormat
{
    internal interface IFormat
    {
        /// <summary>Whether the rows carry per-group scales (int8).</summary>
        static abstract bool HasScales { get; }

        /// <summary>Bytes a row of one block takes: 16 elements.</summary>
        static abstract int RowBytes { get; }

        /// <summary>The 16 elements at <paramref name="row"/>, times <paramref name="scale"/> when the format has scales.</summary>
        static abstract Vector512<float> Load512(byte* row, Vector512<float> scale);

        /// <summary>Elements 8·half … 8·half+7 at <paramref name="row"/>, scaled likewise.</summary>
        static abstract Vector256<float> Load256(byte* row, int half, Vector256<float> scale);

        /// <summary>Element <paramref name="index"/> at <paramref name="row"/>, scaled likewise.</summary>
        static abstract float LoadScalar(byte* row, int index, float scale);
    }

    internal struct F32 : IFormat
    {
        public static bool HasScales => false;

        public static int RowBytes => 64;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load512(byte* row, Vector512<float> scale) => Vector512.Load((float*)row);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load256(byte* row, int half, Vector256<float> scale) => Vector256.Load((float*)row + 8 * half);

        public static float LoadScalar(byte* row, int index, float scale) => ((float*)row)[index];
    }

    internal struct Bf16 : IFormat
    {
        public static bool HasScales => false;

        public static int RowBytes => 32;

        // Zero-extend each 16-bit pattern and shift it into the upper half: the exact f32 value.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load512(byte* row, Vector512<float> scale) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row)), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load256(byte* row, int half, Vector256<float> scale) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)row + 8 * half), 16).AsSingle();

        public static float LoadScalar(byte* row, int index, float scale) => Bf16Bits.ToSingle(((ushort*)row)[index]);
    }

    internal struct Int8 : IFormat
    {
        public static bool HasScales => true;

        public static int RowBytes => 16;

        // Sign-extend, convert (exact for |q| ≤ 127) and scale: the same f32 product GetRow reports.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load512(byte* row, Vector512<float> scale) =>
            Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)row))) * scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load256(byte* row, int half, Vector256<float> scale) =>
            Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)row + 8 * half)) * scale;

        public static float LoadScalar(byte* row, int index, float scale) => ((sbyte*)row)[index] * scale;
    }
}
