using System.Globalization;

namespace PdServe.Pruning.KvSelection;

/// <summary>
/// <c>--kv-layers</c>: <c>auto</c> (layers whose coverage passes the threshold, each confirmed by measured loss),
/// a count N (the N best-covered decode layers), or a list of layers (a comma is required: <c>5,</c> is layer 5 alone);
/// <c>0</c> or <c>none</c> keeps every position.
/// </summary>
public sealed record KvLayerRequest
{
    private KvLayerRequest() { }

    public bool Auto { get; private init; }
    public int? Count { get; private init; }
    public IReadOnlyList<int>? Layers { get; private init; }

    public static KvLayerRequest Automatic { get; } = new() { Auto = true };
    public static KvLayerRequest None { get; } = new() { Count = 0 };
    public static KvLayerRequest Top(int count) => new() { Count = count };
    public static KvLayerRequest Exactly(IEnumerable<int> layers) => new() { Layers = layers.Distinct().Order().ToArray() };

    public static bool TryParse(string text, out KvLayerRequest request)
    {
        request = Automatic;
        text = text.Trim();
        if (text.Equals("auto", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            request = None;
            return true;
        }
        if (!text.Contains(','))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count)) return false;
            request = Top(count);
            return true;
        }
        var layers = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int layer)) return false;
            layers.Add(layer);
        }
        if (layers.Count == 0) return false;
        request = Exactly(layers);
        return true;
    }

    public override string ToString() => Auto ? "auto" : Layers is { } list ? string.Join(',', list) : Count!.Value.ToString(CultureInfo.InvariantCulture);
}
