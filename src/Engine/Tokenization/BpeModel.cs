using System.Collections.Concurrent;

namespace PdServe.Engine.Tokenization;

/// <summary>
/// The BPE "model" step of a Hugging Face tokenizer.json: one pre-tokenized word in, token ids out.
/// </summary>
/// <remarks>
/// Written here rather than delegated to Microsoft.ML.Tokenizers' BpeTokenizer (2.0.1) because that
/// class cannot reproduce Hugging Face ids for the models we serve: it has no <c>byte_fallback</c>
/// (Llama 2 / Mistral emit &lt;0xNN&gt; tokens for characters outside the vocabulary), no
/// <c>ignore_merges</c> (Llama 3 takes a word whole when it is in the vocabulary), and its merges are
/// "left right" strings, which cannot hold the array-form merges of newer tokenizer.json files whose
/// tokens may contain spaces. The algorithm is the usual one: lowest merge rank first, leftmost on ties.
/// </remarks>
internal sealed class BpeModel
{
    private readonly Dictionary<string, int> vocab;
    private readonly Dictionary<long, (int Rank, int NewId)> merges;
    private readonly int? unkId;
    private readonly bool fuseUnk;
    private readonly bool byteFallback;
    private readonly bool ignoreMerges;
    private readonly string? continuingSubwordPrefix;
    private readonly string? endOfWordSuffix;
    private readonly int[] byteIds = new int[256];
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    private const int CacheCapacity = 50_000;
    private const int CacheMaxWordLength = 256;

    public BpeModel(
        Dictionary<string, int> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken, bool fuseUnk, bool byteFallback, bool ignoreMerges,
        string? continuingSubwordPrefix, string? endOfWordSuffix,
        Func<string, Exception> error)
    {
        this.vocab = vocab;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        this.endOfWordSuffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        if (unkToken is not null)
        {
            if (!vocab.TryGetValue(unkToken, out var unk)) throw error($"unk_token '{unkToken}' is not in the vocabulary");
            unkId = unk;
        }
        for (int b = 0; b < 256; b++)
            byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        if (byteFallback && Array.IndexOf(byteIds, -1) >= 0)
            throw error("byte_fallback is set but the vocabulary lacks some <0xNN> byte tokens");

        this.merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out var l) || !vocab.TryGetValue(right, out var r))
                throw error($"merge #{rank} '{left} {right}' uses a token that is not in the vocabulary");
            string merged = this.continuingSubwordPrefix is not null && right.StartsWith(this.continuingSubwordPrefix, StringComparison.Ordinal)
                ? left + right[this.continuingSubwordPrefix.Length..]
                : left + right;
            if (!vocab.TryGetValue(merged, out var newId))
                throw error($"merge #{rank} '{left} {right}' produces '{merged}', which is not in the vocabulary");
            this.merges.TryAdd(Key(l, r), (rank, newId));
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public void Encode(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (ignoreMerges && vocab.TryGetValue(word, out var whole)) { output.Add(whole); return; }
        if (word.Length <= CacheMaxWordLength && cache.TryGetValue(word, out var cached)) { output.AddRange(cached); return; }

        var ids = EncodeUncached(word);
        if (word.Length <= CacheMaxWordLength)
        {
            if (cache.Count >= CacheCapacity) cache.Clear();
            cache.TryAdd(word, ids);
        }
        output.AddRange(ids);
    }

    private int[] EncodeUncached(string word)
    {
        // Initial symbols: one per Unicode scalar value (as the Rust implementation's chars()).
        var symbols = new List<int>(word.Length);
        Span<byte> utf8 = stackalloc byte[4];
        int index = 0, runeCount = 0;
        foreach (var _ in word.EnumerateRunes()) runeCount++;
        bool lastWasUnk = false;
        foreach (var rune in word.EnumerateRunes())
        {
            string piece = rune.ToString();
            if (continuingSubwordPrefix is not null && index > 0) piece = continuingSubwordPrefix + piece;
            if (endOfWordSuffix is not null && index == runeCount - 1) piece += endOfWordSuffix;
            index++;
            if (vocab.TryGetValue(piece, out var id)) { symbols.Add(id); lastWasUnk = false; continue; }
            if (byteFallback)
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int i = 0; i < n; i++) symbols.Add(byteIds[utf8[i]]);
                lastWasUnk = false;
                continue;
            }
            if (unkId is int unk)
            {
                if (!(fuseUnk && lastWasUnk)) symbols.Add(unk);
                lastWasUnk = true;
            }
            // No unk token: Hugging Face drops the character; so do we.
        }
        return Merge(symbols);
    }

    private int[] Merge(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return symbols.ToArray();
        var id = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }

        var queue = new PriorityQueue<(int Pos, int Right, int LeftId, int RightId, int NewId), (int Rank, int Pos)>();
        void Push(int pos)
        {
            int right = next[pos];
            if (right < 0) return;
            if (merges.TryGetValue(Key(id[pos], id[right]), out var m))
                queue.Enqueue((pos, right, id[pos], id[right], m.NewId), (m.Rank, pos));
        }
        for (int i = 0; i + 1 < n; i++) Push(i);

        while (queue.TryDequeue(out var e, out _))
        {
            if (!alive[e.Pos] || !alive[e.Right] || next[e.Pos] != e.Right || id[e.Pos] != e.LeftId || id[e.Right] != e.RightId)
                continue; // stale entry
            id[e.Pos] = e.NewId;
            alive[e.Right] = false;
            int after = next[e.Right];
            next[e.Pos] = after;
            if (after >= 0) prev[after] = e.Pos;
            if (prev[e.Pos] >= 0) Push(prev[e.Pos]);
            Push(e.Pos);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) result.Add(id[i]);
        return result.ToArray();
    }

}
