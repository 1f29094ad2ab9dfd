using System.Globalization;
using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// The rehearsal's changes: the pools start at the first size of each list, then the decode pool walks through its
/// sizes and the prefill pool through its own, one node at a time (1,3,1 is add, add, remove, remove).
/// </summary>
public static class ScaleSchedule
{
    public static IReadOnlyList<ScaleStep> Steps(IReadOnlyList<int> prefillSizes, IReadOnlyList<int> decodeSizes)
    {
        int prefill = prefillSizes[0], decode = decodeSizes[0];
        var steps = new List<ScaleStep>();
        foreach (int target in decodeSizes.Skip(1))
            while (decode != target)
            {
                bool add = target > decode;
                decode += add ? 1 : -1;
                steps.Add(new ScaleStep(NodeRole.Decode, add, prefill, decode));
            }
        foreach (int target in prefillSizes.Skip(1))
            while (prefill != target)
            {
                bool add = target > prefill;
                prefill += add ? 1 : -1;
                steps.Add(new ScaleStep(NodeRole.Prefill, add, prefill, decode));
            }
        return steps;
    }

    /// <summary>Comma-separated pool sizes, each 1 to 16; throws <see cref="FormatException"/> naming the bad one.</summary>
    public static IReadOnlyList<int> ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size is < 1 or > 16)
                throw new FormatException($"'{part}' is not a pool size from 1 to 16");
            sizes.Add(size);
        }
        return sizes;
    }

    public static bool TryParseSizes(string text, out IReadOnlyList<int> sizes)
    {
        try
        {
            sizes = ParseSizes(text);
            return true;
        }
        catch (FormatException)
        {
            sizes = [];
            return false;
        }
    }
}
