using PdServe.Engine.Planning;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;

namespace PdServe.Pruning.Search;

/// <summary>The numbers behind a plan: calibration, every search step, the KV selection and the ShortGPT ranking.</summary>
public sealed record PruneEvidence(
    IReadOnlyList<BlockSimilarity> Similarities,
    IReadOnlyList<LayerAttentionShare> Attention,
    IReadOnlyList<GreedyRemoval.Step> PrefillGreedy,
    SimulatedAnnealing.Result PrefillAnnealing,
    IReadOnlyList<GreedyRemoval.Step> DecodeGreedy,
    SimulatedAnnealing.Result DecodeAnnealing,
    KvLayerSelection.Result Kv,
    IReadOnlyList<int> ShortGptRanking,
    double KvBytesRatio,
    int PromptTokens);

/// <summary>What the search found: the plan (its evidence recorded inside it too) and the evidence as typed values.</summary>
public sealed record PruneOutcome(PrunePlan Plan, PruneEvidence Evidence);
