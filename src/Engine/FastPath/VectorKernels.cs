using System.Runtime.Intrinsics;

namespace PdServe.Engine.FastPath;

/// <summary>
/// The element-wise and row-wise pieces of a decode step, on one row at a time (the caller loops over the batch):
/// RMSNorm (alone and fused with the residual add before it), residual add, SwiGLU, rotate-half RoPE and a
/// max-subtracted softmax. Each runs the <see cref="KernelIsa"/> it is given; the pointer forms are what the
/// attention and LM-head kernels share.
/// </summary>
public static unsafe class VectorKernels
{
    /// <summary>output = x · rsqrt(mean(x²) + ε) · weight, in that order of products (as the torch model computes it).</summary>
    public static void RmsNorm(KernelIsa isa, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> output)
    {
        KernelCapabilities.Require(isa);
        CheckSameLength(x.Length, weight.Length, nameof(weight));
        CheckSameLength(x.Length, output.Length, nameof(output));
        fixed (float* px = x)
        fixed (float* pw = weight)
        fixed (float* po = output)
            Normalize(isa, px, pw, epsilon, po, x.Length);
    }

    /// <summary>
    /// residual += delta, then output = RMSNorm(residual): the step between a block's sublayers in one pass over
    /// the row instead of two.
    /// </summary>
    public static void AddRmsNorm(KernelIsa isa, Span<float> residual, ReadOnlySpan<float> delta, ReadOnlySpan<float> weight, float epsilon,
        Span<float> output)
    {
        KernelCapabilities.Require(isa);
        CheckSameLength(residual.Length, delta.Length, nameof(delta));
        CheckSameLength(residual.Length, weight.Length, nameof(weight));
        CheckSameLength(residual.Length, output.Length, nameof(output));
        fixed (float* pr = residual)
        fixed (float* pd = delta)
        fixed (float* pw = weight)
        fixed (float* po = output)
        {
            AddInPlace(isa, pr, pd, residual.Length);
            Normalize(isa, pr, pw, epsilon, po, residual.Length);
        }
    }

    /// <summary>accumulator += addend (the residual connection).</summary>
    public static void Add(KernelIsa isa, Span<float> accumulator, ReadOnlySpan<float> addend)
    {
        KernelCapabilities.Require(isa);
        CheckSameLength(accumulator.Length, addend.Length, nameof(addend));
        fixed (float* pa = accumulator)
        fixed (float* pb = addend)
            AddInPlace(isa, pa, pb, accumulator.Length);
    }

    /// <summary>output = silu(gate) · up, silu(g) = g / (1 + e^−g). <paramref name="output"/> may alias either input.</summary>
    public static void SwiGlu(KernelIsa isa, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        KernelCapabilities.Require(isa);
        CheckSameLength(gate.Length, up.Length, nameof(up));
        CheckSameLength(gate.Length, output.Length, nameof(output));
        fixed (float* pg = gate)
        fixed (float* pu = up)
        fixed (float* po = output)
            SwiGlu(isa, pg, pu, po, gate.Length);
    }

    /// <summary>
    /// Rotary embedding in place, rotate-half convention: in each head of <paramref name="headDim"/>, element i pairs
    /// with i + headDim/2: (a, b) → (a·cos − b·sin, b·cos + a·sin), with cos/sin the position's
    /// <see cref="RopeTable"/> rows (headDim/2 each). Separate products and one sum per output, no fused
    /// multiply-add, so the result is bitwise the torch model's (x·cos + rotate_half(x)·sin).
    /// </summary>
    public static void Rope(KernelIsa isa, Span<float> heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        KernelCapabilities.Require(isa);
        if (headDim < 2 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), "a head dimension must be even");
        if (heads.Length % headDim != 0) throw new ArgumentException($"expected whole heads of {headDim}", nameof(heads));
        int half = headDim / 2;
        if (cos.Length < half || sin.Length < half) throw new ArgumentException($"cos and sin need {half} values each");
        fixed (float* ph = heads)
        fixed (float* pc = cos)
        fixed (float* ps = sin)
        {
            for (int h = 0; h < heads.Length / headDim; h++) Rotate(isa, ph + (nint)h * headDim, half, pc, ps);
        }
    }

    /// <summary>Softmax in place: e^(x − max) / Σ.</summary>
    public static void Softmax(KernelIsa isa, Span<float> values)
    {
        KernelCapabilities.Require(isa);
        if (values.IsEmpty) return;
        fixed (float* p = values)
        {
            float max = Max(isa, p, values.Length);
            float sum = ExpSubtract(isa, p, values.Length, max);
            Scale(isa, p, values.Length, 1f / sum);
        }
    }

    internal static void Normalize(KernelIsa isa, float* x, float* weight, float epsilon, float* output, int n)
    {
        float sumOfSquares = Dot(isa, x, x, n);
        float inverse = 1f / MathF.Sqrt(sumOfSquares / n + epsilon);
        int i = 0;
        if (isa == KernelIsa.Avx512)
        {
            Vector512<float> r = Vector512.Create(inverse);
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(x + i) * r * Vector512.Load(weight + i), output + i);
        }
        else if (isa == KernelIsa.Avx2)
        {
            Vector256<float> r = Vector256.Create(inverse);
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(x + i) * r * Vector256.Load(weight + i), output + i);
        }
        for (; i < n; i++) output[i] = x[i] * inverse * weight[i];
    }

    internal static void AddInPlace(KernelIsa isa, float* accumulator, float* addend, int n)
    {
        int i = 0;
        if (isa == KernelIsa.Avx512)
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(accumulator + i) + Vector512.Load(addend + i), accumulator + i);
        else if (isa == KernelIsa.Avx2)
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(accumulator + i) + Vector256.Load(addend + i), accumulator + i);
        for (; i < n; i++) accumulator[i] += addend[i];
    }

    internal static void SwiGlu(KernelIsa isa, float* gate, float* up, float* output, int n)
    {
        int i = 0;
        if (isa == KernelIsa.Avx512)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> g = Vector512.Load(gate + i);
                Vector512.Store(g / (Vector512<float>.One + Vector512.Exp(-g)) * Vector512.Load(up + i), output + i);
            }
        }
        else if (isa == KernelIsa.Avx2)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> g = Vector256.Load(gate + i);
                Vector256.Store(g / (Vector256<float>.One + Vector256.Exp(-g)) * Vector256.Load(up + i), output + i);
            }
        }
        for (; i < n; i++) output[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    internal static void Rotate(KernelIsa isa, float* head, int half, float* cos, float* sin)
    {
        float* second = head + half;
        int i = 0;
        if (isa == KernelIsa.Avx512)
        {
            for (; i + 16 <= half; i += 16)
            {
                Vector512<float> a = Vector512.Load(head + i), b = Vector512.Load(second + i);
                Vector512<float> c = Vector512.Load(cos + i), s = Vector512.Load(sin + i);
                Vector512.Store(a * c - b * s, head + i);
                Vector512.Store(b * c + a * s, second + i);
            }
        }
        else if (isa == KernelIsa.Avx2)
        {
            for (; i + 8 <= half; i += 8)
            {
                Vector256<float> a = Vector256.Load(head + i), b = Vector256.Load(second + i);
                Vector256<float> c = Vector256.Load(cos + i), s = Vector256.Load(sin + i);
                Vector256.Store(a * c - b * s, head + i);
                Vector256.Store(b * c + a * s, second + i);
            }
        }
        for (; i < half; i++)
        {
            float a = head[i], b = second[i];
            head[i] = a * cos[i] - b * sin[i];
            second[i] = b * cos[i] + a * sin[i];
        }
    }

    internal static float Dot(KernelIsa isa, float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0f;
        if (isa == KernelIsa.Avx512 && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (isa == KernelIsa.Avx2 && n >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    internal static float Max(KernelIsa isa, float* x, int n)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (isa == KernelIsa.Avx512 && n >= 16)
        {
            Vector512<float> m = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16) m = Vector512.Max(m, Vector512.Load(x + i));
            for (int lane = 0; lane < 16; lane++) max = Math.Max(max, m[lane]);
        }
        else if (isa == KernelIsa.Avx2 && n >= 8)
        {
            Vector256<float> m = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.Load(x + i));
            for (int lane = 0; lane < 8; lane++) max = Math.Max(max, m[lane]);
        }
        for (; i < n; i++) max = Math.Max(max, x[i]);
        return max;
    }

    /// <summary>x = e^(x − max) in place; returns Σ of the new values.</summary>
    internal static float ExpSubtract(KernelIsa isa, float* x, int n, float max)
    {
        int i = 0;
        float sum = 0f;
        if (isa == KernelIsa.Avx512 && n >= 16)
        {
            Vector512<float> m = Vector512.Create(max), acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> e = Vector512.Exp(Vector512.Load(x + i) - m);
                Vector512.Store(e, x + i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (isa == KernelIsa.Avx2 && n >= 8)
        {
            Vector256<float> m = Vector256.Create(max), acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> e = Vector256.Exp(Vector256.Load(x + i) - m);
                Vector256.Store(e, x + i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        return sum;
    }

    /// <summary>Σ e^(x − max) without writing anything (the LM head's log-sum-exp).</summary>
    internal static float SumExp(KernelIsa isa, float* x, int n, float max)
    {
        int i = 0;
        float sum = 0f;
        if (isa == KernelIsa.Avx512 && n >= 16)
        {
            Vector512<float> m = Vector512.Create(max), acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc += Vector512.Exp(Vector512.Load(x + i) - m);
            sum = Vector512.Sum(acc);
        }
        else if (isa == KernelIsa.Avx2 && n >= 8)
        {
            Vector256<float> m = Vector256.Create(max), acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc += Vector256.Exp(Vector256.Load(x + i) - m);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += MathF.Exp(x[i] - max);
        return sum;
    }

    internal static void Scale(KernelIsa isa, float* x, int n, float factor)
    {
        int i = 0;
        if (isa == KernelIsa.Avx512)
        {
            Vector512<float> f = Vector512.Create(factor);
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(x + i) * f, x + i);
        }
        else if (isa == KernelIsa.Avx2)
        {
            Vector256<float> f = Vector256.Create(factor);
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(x + i) * f, x + i);
        }
        for (; i < n; i++) x[i] *= factor;
    }

    /// <summary>accumulator += factor · x.</summary>
    internal static void MultiplyAdd(KernelIsa isa, float* accumulator, float* x, float factor, int n)
    {
        int i = 0;
        if (isa == KernelIsa.Avx512)
        {
            Vector512<float> f = Vector512.Create(factor);
            for (; i + 16 <= n; i += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), f, Vector512.Load(accumulator + i)), accumulator + i);
        }
        else if (isa == KernelIsa.Avx2)
        {
            Vector256<float> f = Vector256.Create(factor);
            for (; i + 8 <= n; i += 8)
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(x + i), f, Vector256.Load(accumulator + i)), accumulator + i);
        }
        for (; i < n; i++) accumulator[i] += factor * x[i];
    }

    private static void CheckSameLength(int expected, int actual, string name)
    {
        if (actual != expected) throw new ArgumentException($"expected {expected} elements, got {actual}", name);
    }
}
