using System.Globalization;

namespace PdServe.Cli.Options;

/// <summary>The comma-separated lists of non-negative integers options take: block indices, prompt lengths, link rates.</summary>
public static class IntegerList
{
    /// <summary>Parses "3,5" (spaces allowed) into sorted distinct non-negative ints; false on anything else.</summary>
    public static bool TryParse(string text, out int[] values)
    {
        values = [];
        if (string.IsNullOrWhiteSpace(text)) return false;
        var result = new SortedSet<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                return false;
            result.Add(value);
        }
        values = [.. result];
        return true;
    }
}
