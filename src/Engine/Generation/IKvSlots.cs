namespace PdServe.Engine.Generation;

/// <summary>
/// The KV-cache slot operations the scheduler orders when sequences leave the batch or fail; the model runner, which
/// owns the cache, carries them out. The scheduler never runs the model.
/// </summary>
internal interface IKvSlots
{
    /// <summary>Empties a slot; its stale entries stay behind, masked out (see <see cref="Cache.KvCache.Clear"/>).</summary>
    void Free(int slot);

    /// <summary>Moves a sequence's entries from one slot to another and empties the first.</summary>
    void Move(int from, int to);

    /// <summary>Empties a slot and zeroes its storage: for a slot that may hold non-finite values.</summary>
    void Scrub(int slot);
}
