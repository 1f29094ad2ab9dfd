using PdServe.Engine.Loading;
using PdServe.Engine.Model;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Model;

/// <summary>
/// Prefill + one-token decode steps over the KV cache must give the logits of a full-sequence recompute.
/// Tolerance: 1e-4 absolute on logits of magnitude ~1 (fp32 throughout; only summation order differs).
/// </summary>
public class IncrementalDecodeTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Configs => ["llama-gqa", "qwen2-bias", "llama-tied", "llama-untied-mha", "llama3-rope"];

    private static ModelConfig ConfigNamed(string name) => name switch
    {
        "llama-gqa" => TinyCheckpoint.LlamaGqa(),
        "qwen2-bias" => TinyCheckpoint.Qwen2WithBias(),
        "llama-tied" => TinyCheckpoint.LlamaTied(),
        "llama-untied-mha" => TinyCheckpoint.DefaultConfig(numKvHeads: 4, headDim: 32, hiddenSize: 64, numHeads: 4),
        "llama3-rope" => TinyCheckpoint.Llama3RopeScaling(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Decode_steps_match_full_sequence_recompute(string configName)
    {
        ModelConfig config = ConfigNamed(configName);
        using CausalLm model = TinyModels.Load(config);
        int[] sequence = TinyModels.RandomTokens(14, config.VocabSize, seed: 11);
        const int promptLength = 9;
        using Tensor reference = TinyModels.FullLogits(model, sequence);

        using var cache = model.CreateCache(maxSlots: 1, maxTokensPerSlot: 64);
        using Tensor prefillLogits = model.Prefill(sequence[..promptLength], cache, slot: 0);
        Assert.True(TinyModels.MaxAbsDifference(prefillLogits, reference[promptLength - 1]) < Tolerance);

        for (int position = promptLength; position < sequence.Length; position++)
        {
            using Tensor stepLogits = model.DecodeStep([sequence[position]], [position], cache);
            float difference = TinyModels.MaxAbsDifference(stepLogits[0], reference[position]);
            Assert.True(difference < Tolerance, $"{configName}: position {position} differs by {difference}");
        }
        Assert.Equal(sequence.Length, cache.Length(0, model.Plan.RunBlocks[0]));
    }

    [Fact]
    public void Logits_are_not_degenerate()
    {
        // Guards the other tests: a model whose logits ignore the input would match any recompute.
        using CausalLm model = TinyModels.Load(TinyCheckpoint.LlamaGqa());
        using Tensor a = TinyModels.FullLogits(model, [5, 6, 7]);
        using Tensor b = TinyModels.FullLogits(model, [5, 9, 7]);
        Assert.True(TinyModels.MaxAbsDifference(a[2], b[2]) > 1e-3f);
        Assert.True(a.std().item<float>() > 1e-3f);
    }

    [Fact]
    public void Bf16_prefill_stays_close_to_fp32()
    {
        ModelConfig config = TinyCheckpoint.LlamaGqa();
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, config, seed: 3);
        using CausalLm fp32 = TinyModels.LoadFrom(directory.Path);
        using CausalLm bf16 = TinyModels.LoadFrom(directory.Path, prefillDtype: ScalarType.BFloat16);
        int[] prompt = TinyModels.RandomTokens(20, config.VocabSize, seed: 5);
        using var cacheA = fp32.CreateCache(1, 32);
        using var cacheB = bf16.CreateCache(1, 32);
        using Tensor a = fp32.Prefill(prompt, cacheA, 0);
        using Tensor b = bf16.Prefill(prompt, cacheB, 0);
        float scale = a.abs().max().item<float>();
        float difference = TinyModels.MaxAbsDifference(a, b);
        Assert.True(difference > 0, "bf16 prefill should really run in bf16");
        Assert.True(difference < 0.05f * scale, $"bf16 prefill logits differ by {difference} (max |logit| {scale})");
    }
}
