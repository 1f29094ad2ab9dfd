namespace PdServe.Engine.FastPath;

/// <summary>
/// Work a <see cref="WorkerPool"/> splits: called once per worker with a non-empty slice [start, end) of the range
/// given to <see cref="WorkerPool.Run"/>. Implement it on a long-lived object whose fields the caller sets before
/// each run (not a fresh closure), so a step allocates nothing.
/// </summary>
public interface IPoolWork
{
    void Execute(int worker, int start, int end);
}
