using PdServe.Contracts;

namespace PdServe.KvTransfer.Wire;

/// <summary>Converts between ascending prompt positions and the compact ranges a header carries.</summary>
public static class PositionRanges
{
    /// <summary>Ranges covering <paramref name="positions"/> (strictly ascending), merged where consecutive.</summary>
    public static LayerPositions ForLayer(int layer, IReadOnlyList<int> positions)
    {
        var result = new LayerPositions { Layer = layer };
        for (int i = 0; i < positions.Count; i++)
        {
            if (i > 0 && positions[i] <= positions[i - 1])
                throw new ArgumentException("positions must be strictly ascending", nameof(positions));
            if (result.Ranges.Count > 0 && result.Ranges[^1] is { } last && last.Start + last.Count == positions[i])
                last.Count++;
            else
                result.Ranges.Add(new PositionRange { Start = positions[i], Count = 1 });
        }
        return result;
    }

    /// <summary>How many positions the ranges hold.</summary>
    public static int Count(LayerPositions layer) => layer.Ranges.Sum(r => r.Count);

    /// <summary>
    /// The positions, after checking that the ranges are non-empty, ascending, disjoint and inside a prompt of
    /// <paramref name="promptTokens"/> tokens. Throws <see cref="KvTransferException"/> otherwise.
    /// </summary>
    public static int[] Expand(LayerPositions layer, int promptTokens)
    {
        var positions = new List<int>();
        int next = 0;
        foreach (PositionRange range in layer.Ranges)
        {
            if (range.Count < 1 || range.Start < next || (long)range.Start + range.Count > promptTokens)
                throw new KvTransferException(KvTransferFailure.Protocol,
                    $"layer {layer.Layer}: position range [{range.Start}, +{range.Count}) is empty, overlapping or outside the {promptTokens}-token prompt");
            for (int p = range.Start; p < range.Start + range.Count; p++) positions.Add(p);
            next = range.Start + range.Count;
        }
        return positions.ToArray();
    }
}
