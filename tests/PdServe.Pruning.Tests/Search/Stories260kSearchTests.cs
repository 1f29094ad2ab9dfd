using PdServe.Engine;
using PdServe.Pruning.Calibration;
using PdServe.Pruning.KvSelection;
using PdServe.Pruning.Search;
using PdServe.TestSupport;
using PdServe.Training.Corpus;

namespace PdServe.Pruning.Tests.Search;

/// <summary>The search on a real pretrained model (../shared/models/stories260k, 5 blocks); skipped where it is absent.</summary>
public class Stories260kSearchTests
{
    [RequiresSharedModelFact]
    public void The_search_on_stories260k_keeps_the_subset_rule_and_beats_no_search_on_its_own_objective()
    {
        using var directory = new TempDirectory();
        string text = directory.Combine("calib.txt");
        File.WriteAllText(text, string.Join("\n\n", Enumerable.Range(0, 6).Select(i =>
            $"Once upon a time, there was a little girl named Lily{i}. She liked to play in the park with her dog. One day, the dog ran away " +
            "and Lily was sad. Her mom said, \"Do not worry, we will find him.\" They looked under the big tree and found the dog. Lily was happy.")));
        using LoadedModel model = PruningModel.Load(SharedModels.Stories260kPath);
        PruneOutcome outcome = PruneSearch.Run(model, TextDocuments.Read(text), new PruneOptions
        {
            PrefillSkip = 1,
            DecodeSkip = 2,
            Iterations = 6,
            KvLayers = KvLayerRequest.None,
            Calibration = new CalibrationOptions { PromptTokens = 48, ContinuationTokens = 16, MaxTokens = 512 },
        });
        Assert.Subset(outcome.Plan.DecodeSkipSet.ToHashSet(), outcome.Plan.PrefillSkipSet.ToHashSet());
        Assert.Equal(2, outcome.Plan.DecodeSkip.Count);
        // The greedy step measured every candidate; the chosen block is the one with the lowest KL.
        var first = outcome.Evidence.PrefillGreedy[0];
        Assert.Equal(first.Candidates.Values.Min(), first.Objective);
        Assert.True(outcome.Evidence.PrefillAnnealing.BestObjective <= first.Objective);
        Assert.All(outcome.Evidence.Similarities, s => Assert.InRange(s.Prompt, 0.0, 1.0));
    }
}
