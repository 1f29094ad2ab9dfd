using TorchSharp;

namespace PdServe.Engine.Runtime;

/// <summary>
/// Scalars that outlive every operation that reads them. TorchSharp turns a number passed to an op (and the implicit
/// <c>alpha = 1</c> of <c>a + b</c>) into a native Scalar that only its finalizer frees; nothing keeps that wrapper alive
/// during the native call, so a collection on another thread can free the scalar while libtorch still reads it. Under
/// a busy node (gRPC transfers allocating) that corrupted decode steps ("Unknown scalar type", "Expected false to be
/// true" from Scalar::toFloat). Hot paths therefore pass these, or a scalar they hold in a field or a using.
/// </summary>
public static class HeldScalars
{
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
}
