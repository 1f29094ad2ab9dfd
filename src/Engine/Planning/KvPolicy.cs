namespace PdServe.Engine.Planning;

/// <summary>
/// Token-aware KV-cache pruning: for each selected layer only the first <see cref="First"/> and the last
/// <see cref="Last"/> prompt positions are kept (at their true positions); other layers keep every position.
/// A prompt shorter than First + Last is kept whole.
/// </summary>
public sealed record KvPolicy(IReadOnlyList<int> SelectedLayers, int First, int Last, KvWireDtype WireDtype)
{
    /// <summary>Keeps everything and sends float32: the policy when no plan is given.</summary>
    public static KvPolicy KeepAll { get; } = new([], 0, 0, KvWireDtype.Float32);

    /// <summary>The prompt positions layer <paramref name="layer"/> keeps for a prompt of <paramref name="promptLength"/> tokens, ascending.</summary>
    public IReadOnlyList<int> KeptPositions(int layer, int promptLength)
    {
        if (!SelectedLayers.Contains(layer) || promptLength <= First + Last) return Enumerable.Range(0, promptLength).ToArray();
        return Enumerable.Range(0, First).Concat(Enumerable.Range(promptLength - Last, Last)).ToArray();
    }

    /// <summary>How many positions layer <paramref name="layer"/> keeps, without listing them.</summary>
    public int KeptCount(int layer, int promptLength) =>
        !SelectedLayers.Contains(layer) || promptLength <= First + Last ? promptLength : First + Last;
}
