using PdServe.Engine.Planning;
using static TorchSharp.torch;

namespace PdServe.Decode.Conversations;

/// <summary>
/// How a parked conversation serves a prompt that extends its tokens: the prompt's first P = parked-token-count
/// positions are not sent again. For each block, the positions a cold transfer of the new prompt would keep split at P:
/// those before P come out of the parked entries (a selected layer keeps its first F and drops the parked positions
/// that fell out of the new last-L window; a full layer keeps all), those from P on arrive in the delta transfer.
/// Built only when the parked entries hold every position needed before P, so the merged KV is exactly a cold
/// transfer's.
/// </summary>
public sealed class ConversationReuse : IDisposable
{
    private readonly ParkedConversation parked;
    private readonly Dictionary<int, long[]> parkedRowsByBlock;
    private readonly Dictionary<int, int[]> deltaPositionsByBlock;

    private ConversationReuse(ParkedConversation parked, Dictionary<int, long[]> parkedRowsByBlock, Dictionary<int, int[]> deltaPositionsByBlock)
    {
        this.parked = parked;
        this.parkedRowsByBlock = parkedRowsByBlock;
        this.deltaPositionsByBlock = deltaPositionsByBlock;
    }

    /// <summary>Leading prompt tokens whose KV the parked conversation supplies.</summary>
    public int ReusedPrefixTokens => parked.Tokens.Count;

    /// <summary>
    /// The reuse of <paramref name="parked"/> for a prompt of <paramref name="promptLength"/> tokens through
    /// <paramref name="blocks"/> under <paramref name="policy"/>, or null when the parked entries lack a needed position
    /// (then the request goes cold). Takes ownership of <paramref name="parked"/> either way.
    /// </summary>
    public static ConversationReuse? Plan(ParkedConversation parked, KvPolicy policy, IReadOnlyList<int> blocks, int promptLength)
    {
        int reused = parked.Tokens.Count;
        var rows = new Dictionary<int, long[]>();
        var deltas = new Dictionary<int, int[]>();
        foreach (int block in blocks)
        {
            if (!parked.Holds(block))
            {
                parked.Dispose();
                return null;
            }
            var held = parked[block].Positions;
            IReadOnlyList<int> kept = policy.KeptPositions(block, promptLength);
            var needed = kept.Where(p => p < reused).ToArray();
            deltas[block] = kept.Where(p => p >= reused).ToArray();
            var blockRows = new long[needed.Length];
            for (int i = 0; i < needed.Length; i++)
            {
                int row = BinarySearch(held, needed[i]);
                if (row < 0)
                {
                    parked.Dispose();
                    return null;
                }
                blockRows[i] = row;
            }
            rows[block] = blockRows;
        }
        return new ConversationReuse(parked, rows, deltas);
    }

    /// <summary>
    /// The block's keys and values for the whole new prompt: the parked rows it still needs, then the
    /// <paramref name="deltaKeys"/>/<paramref name="deltaValues"/> that arrived [kvHeads, delta positions, headDim].
    /// </summary>
    public (Tensor Keys, Tensor Values) Merge(int block, Tensor deltaKeys, Tensor deltaValues)
    {
        using var scope = NewDisposeScope();
        ParkedBlock held = parked[block];
        long[] rows = parkedRowsByBlock[block];
        if (rows.Length == 0) return (deltaKeys.clone().MoveToOuterDisposeScope(), deltaValues.clone().MoveToOuterDisposeScope());
        Tensor index = tensor(rows);
        Tensor keys = cat([held.Keys.index_select(1, index), deltaKeys], 1);
        Tensor values = cat([held.Values.index_select(1, index), deltaValues], 1);
        return (keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    /// <summary>The positions the delta transfer must bring for <paramref name="block"/>: the kept ones from the reused prefix on.</summary>
    public IReadOnlyList<int> DeltaPositions(int block) => deltaPositionsByBlock[block];

    private static int BinarySearch(IReadOnlyList<int> ascending, int value)
    {
        int low = 0, high = ascending.Count - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            int at = ascending[middle];
            if (at == value) return middle;
            if (at < value) low = middle + 1;
            else high = middle - 1;
        }
        return -1;
    }

    public void Dispose() => parked.Dispose();
}
