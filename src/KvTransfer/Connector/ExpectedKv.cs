namespace PdServe.KvTransfer.Connector;

/// <summary>
/// What the receiving node runs and asked for, which an arriving transfer must match: the same weights and plan, the
/// same KV shape, exactly the layers it runs, the request's prompt length, one first token per sample from its
/// vocabulary, chunks no larger than it asked for, and the reused prefix it asked for (positions it already holds).
/// </summary>
public sealed record ExpectedKv(
    string ModelFingerprint,
    string PlanFingerprint,
    int KvHeads,
    int HeadDim,
    IReadOnlyList<int> Layers,
    int PromptTokens,
    int Samples,
    int VocabSize,
    int MaxChunkBytes,
    int ReusedPrefixTokens = 0);
