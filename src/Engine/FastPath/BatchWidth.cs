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

    internal struct One : IWidth
    {
        public static int Value => 1;
    }

    internal struct Two : IWidth
    {
        public static int Value => 2;
    }

    internal struct Three : IWidth
    {
        public static int Value => 3;
    }

    internal struct Four : IWidth
    {
        public static int Value => 4;
    }
}
