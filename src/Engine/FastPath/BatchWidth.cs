namespace PdServe.Engine.FastPath;

/// <summary>
/// The number of input rows a matrix micro-kernel handles at once, as a type: the JIT folds the constant and drops
/// the accumulators of the absent rows, so one kernel body compiles to a register-only loop for each width.
/// </summary>
internal static class BatchWidth
{
    internal interface IWidth
    {
        static abstract int Value { get; }
    }

    internal struct OneRow : IWidth
    {
        public static int Value => 1;
    }

    internal struct TwoRows : IWidth
    {
        public static int Value => 2;
    }

    internal struct ThreeRows : IWidth
    {
        public static int Value => 3;
    }

    internal struct FourRows : IWidth
    {
        public static int Value => 4;
    }
}
