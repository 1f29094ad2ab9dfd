namespace PdServe.Gateway.Generation;

/// <summary>
/// Finds stop strings in text that arrives in pieces (a stop string may span tokens). Text that could still be the
/// start of a stop string is held back until the next piece settles it, so nothing past a stop is ever released.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private string held = "";

    /// <summary>True once a stop string was found; later pieces are ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a piece; returns the text that is now safe to release (up to the stop string, if found).</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        if (stops.Count == 0) return text;
        // Released text held no stop and no stop's start, so a match can only begin inside the held suffix or later.
        string buffer = held + text;
        int earliest = -1;
        foreach (string stop in stops)
        {
            int at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0)
        {
            Stopped = true;
            held = "";
            return buffer[..earliest];
        }
        int keep = LongestStopPrefixSuffix(buffer);
        held = buffer[^keep..];
        return buffer[..^keep];
    }

    /// <summary>At the end of the sample: releases what was held back (it did not become a stop string).</summary>
    public string Flush()
    {
        string held = this.held;
        this.held = "";
        return held;
    }

    private int LongestStopPrefixSuffix(string buffer)
    {
        int best = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, buffer.Length); length > best; length--)
            {
                if (buffer.AsSpan(buffer.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    best = length;
                    break;
                }
            }
        }
        return best;
    }
}
