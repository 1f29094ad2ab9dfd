using PdServe.Engine;
using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.Pruning.Evaluation;
using PdServe.TestSupport;
using PdServe.Training.Corpus;
using static TorchSharp.torch;

namespace PdServe.Pruning.Tests.Evaluation;

public class EvaluatorTests
{
    private const string Text = "in the beginning the earth was without form\n\nand the light was good\nand there was evening\n\n\n" +
                                "the spirit moved upon the face of the waters and the darkness was upon the deep\n\nlet there be light";

    [Fact]
    public void Perplexity_is_exp_of_the_mean_negative_log_likelihood_recomputed_independently()
    {
        using var directory = new TempDirectory();
        TinyTokenizer.WriteModel(directory.Path, TinyCheckpoint.DefaultConfig(numLayers: 3), seed: 11);
        string data = directory.Combine("data.txt");
        File.WriteAllText(data, Text);
        using LoadedModel loaded = PruningModel.Load(directory.Path);
        var options = new EvaluationOptions { WindowTokens = 24, PromptTokens = 5, BatchSize = 3 };
        EvaluationResult result = new Evaluator(loaded, options).Evaluate(TextDocuments.Read(data), [("unpruned", StagedPruning.Unpruned)])[0];

        // Independently: encode the four documents, cut 24-token windows, score tokens 5.. of each with the plain forward.
        var stream = new List<int>();
        foreach (string document in new[] { "in the beginning the earth was without form", "and the light was good\nand there was evening",
                     "the spirit moved upon the face of the waters and the darkness was upon the deep", "let there be light" })
        {
            stream.Add(TinyTokenizer.BosTokenId);
            stream.AddRange(loaded.Tokenizer.Encode(document, addSpecialTokens: false));
            stream.Add(TinyTokenizer.EosTokenId);
        }
        double nll = 0;
        long count = 0;
        for (int start = 0; start < stream.Count; start += 24)
        {
            int[] window = stream.Skip(start).Take(24).ToArray();
            if (window.Length < 6) break;
            using Tensor logProbabilities = TinyModels.FullLogits(loaded.Model, window).log_softmax(-1);
            for (int position = 5; position < window.Length; position++)
            {
                nll -= logProbabilities[position - 1, window[position]].item<float>();
                count++;
            }
        }
        Assert.Equal(count, result.TokensEvaluated);
        Assert.Equal(nll / count, result.MeanLoss, 4);
        Assert.Equal(Math.Exp(nll / count), result.Perplexity, 3);
        Assert.Null(result.Top1Agreement);
    }

    [Fact]
    public void Skipping_blocks_scores_like_a_model_loaded_without_them_and_agreement_counts_equal_argmaxes()
    {
        using var directory = new TempDirectory();
        TinyTokenizer.WriteModel(directory.Path, TinyCheckpoint.DefaultConfig(numLayers: 4), seed: 12);
        string data = directory.Combine("data.txt");
        File.WriteAllText(data, Text);
        using LoadedModel loaded = PruningModel.Load(directory.Path);
        var options = new EvaluationOptions { WindowTokens = 32, PromptTokens = 8, MaxTokens = 40 };
        var results = new Evaluator(loaded, options).Evaluate(TextDocuments.Read(data),
            [("unpruned", StagedPruning.Unpruned), ("skip 1,2", StagedPruning.Uniform([1, 2]))]);
        Assert.Equal(40, results[0].TokensEvaluated);
        Assert.Equal(40, results[1].TokensEvaluated);

        (IReadOnlyList<int[]> windows, int prompt) = new Evaluator(loaded, options).Windows(TextDocuments.Read(data));
        using CausalLm skipping = TinyModels.LoadFrom(directory.Path, skip: new HashSet<int> { 1, 2 });
        double nll = 0;
        long agree = 0, count = 0;
        foreach (int[] window in windows)
        {
            using Tensor pruned = TinyModels.FullLogits(skipping, window).log_softmax(-1);
            using Tensor reference = TinyModels.FullLogits(loaded.Model, window);
            for (int position = prompt; position < window.Length; position++)
            {
                nll -= pruned[position - 1, window[position]].item<float>();
                agree += pruned[position - 1].argmax().item<long>() == reference[position - 1].argmax().item<long>() ? 1 : 0;
                count++;
            }
        }
        Assert.Equal(40, count);
        Assert.Equal(nll / count, results[1].MeanLoss, 4);
        Assert.Equal(agree / (double)count, results[1].Top1Agreement!.Value, 6);
        Assert.True(results[1].MeanKl > 0);
        Assert.NotEqual(results[0].MeanLoss, results[1].MeanLoss);
    }

    [Fact]
    public void An_empty_data_file_is_refused()
    {
        using var directory = new TempDirectory();
        string data = directory.Combine("empty.txt");
        File.WriteAllText(data, "\n\n  \n");
        var error = Assert.Throws<InvalidDataException>(() => TextDocuments.Read(data));
        Assert.Contains("is empty", error.Message);
    }
}
