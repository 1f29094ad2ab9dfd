using System.Runtime.InteropServices;

namespace PdServe.Training.Tokenizers;

/// <summary>
/// The BPE trainer's view of adjacent symbol pairs: how often each occurs in the corpus (word occurrences
/// weighted by word frequency), which words may hold it, and a queue that yields the most frequent one.
/// Changes are collected per merge and committed together, so a merge touches only the words that held
/// the merged pair.
/// </summary>
/// <remarks>
/// The queue is lazy: an entry keeps the count the pair had when it was queued. A pair is queued again
/// whenever its count rises, and an entry found above its pair's current count is re-queued at that count,
/// so the first entry that matches its pair's count is the most frequent pair. Ties go to the smaller left
/// id, then the smaller right id (tokens learned earlier first), which makes training deterministic.
/// </remarks>
internal sealed class PairStatistics
{
    private readonly Dictionary<long, long> counts = new();
    private readonly Dictionary<long, HashSet<int>> words = new();
    private readonly Dictionary<long, long> pending = new();
    private readonly PriorityQueue<long, (long Count, long Pair)> queue = new(MostFrequentFirst.Instance);

    public static long Pair(int left, int right) => ((long)left << 32) | (uint)right;
    public static int Left(long pair) => (int)(pair >> 32);
    public static int Right(long pair) => (int)pair;

    /// <summary>Records that word <paramref name="word"/> gained (positive) or lost (negative) occurrences of a pair.</summary>
    public void Change(long pair, long delta, int word)
    {
        ref long pending = ref CollectionsMarshal.GetValueRefOrAddDefault(this.pending, pair, out _);
        pending += delta;
        if (delta <= 0) return;
        // A word that loses a pair stays in its set; the trainer checks the word before merging in it.
        if (!this.words.TryGetValue(pair, out var words)) this.words[pair] = words = new HashSet<int>();
        words.Add(word);
    }

    /// <summary>Applies the recorded changes; a pair whose count rose is queued at its new count.</summary>
    public void Commit()
    {
        foreach (var (pair, delta) in pending)
        {
            if (delta == 0) continue;
            long count = counts.GetValueOrDefault(pair) + delta;
            if (count <= 0)
            {
                counts.Remove(pair);
                words.Remove(pair);
                continue;
            }
            counts[pair] = count;
            if (delta > 0) queue.Enqueue(pair, (count, pair));
        }
        pending.Clear();
    }

    /// <summary>Takes the most frequent pair off the queue, or returns false when no pair is left.</summary>
    public bool TryTakeMostFrequent(out long pair, out long count)
    {
        while (queue.TryDequeue(out pair, out var queued))
        {
            count = counts.GetValueOrDefault(pair);
            if (queued.Count == count) return true;
            if (count > 0 && queued.Count > count) queue.Enqueue(pair, (count, pair));
            // An entry below the current count is outdated by the one queued when the count rose.
        }
        count = 0;
        return false;
    }

    /// <summary>The words that may hold <paramref name="pair"/> (a superset: some may have lost it since).</summary>
    public IReadOnlyCollection<int> WordsWith(long pair) =>
        this.words.TryGetValue(pair, out var words) ? words : [];

    private sealed class MostFrequentFirst : IComparer<(long Count, long Pair)>
    {
        public static readonly MostFrequentFirst Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}
