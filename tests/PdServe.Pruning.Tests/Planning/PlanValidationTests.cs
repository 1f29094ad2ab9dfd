using PdServe.Engine.Planning;
using PdServe.Pruning.KvSelection;
using PdServe.TestSupport;

namespace PdServe.Pruning.Tests.Planning;

public class PlanValidationTests
{
    private static PrunePlan Valid() => new()
    {
        ModelFingerprint = "abc123",
        NumBlocks = 6,
        PrefillSkip = [2],
        DecodeSkip = [2, 4],
        Kv = new PrunePlan.KvSection { SelectedLayers = [0, 5], First = 4, Last = 12, WireDtype = "float32" },
    };

    public static TheoryData<string, string> BrokenRules() => new()
    {
        { "format", "unknown plan format" },
        { "fingerprint", "model_fingerprint is empty" },
        { "num_blocks", "num_blocks must be >= 1" },
        { "out_of_range", "prefill_skip: block 6 is out of range 0..5" },
        { "negative", "decode_skip: block -1 is out of range" },
        { "duplicate", "decode_skip: block 4 is listed twice" },
        { "all_blocks", "decode_skip removes all 6 blocks" },
        { "subset", "prefill_skip must be a subset of decode_skip: block 3" },
        { "kv_skipped_layer", "kv.selected_layers must be blocks the decode stage runs: block 4" },
        { "kv_negative", "kv.first and kv.last must be >= 0" },
        { "kv_empty_window", "kv.first + kv.last must be >= 1" },
        { "wire_dtype", "kv.wire_dtype 'fp8' is not one of" },
    };

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public void Each_broken_rule_is_refused_with_its_own_message(string rule, string message)
    {
        PrunePlan plan = Valid();
        plan = rule switch
        {
            "format" => plan with { Format = "other/2" },
            "fingerprint" => plan with { ModelFingerprint = " " },
            "num_blocks" => plan with { NumBlocks = 0, PrefillSkip = [], DecodeSkip = [], Kv = new PrunePlan.KvSection() },
            "out_of_range" => plan with { PrefillSkip = [6] },
            "negative" => plan with { DecodeSkip = [2, -1] },
            "duplicate" => plan with { DecodeSkip = [2, 4, 4] },
            "all_blocks" => plan with { DecodeSkip = [0, 1, 2, 3, 4, 5], Kv = new PrunePlan.KvSection() },
            "subset" => plan with { PrefillSkip = [3] },
            "kv_skipped_layer" => plan with { Kv = plan.Kv with { SelectedLayers = [4] } },
            "kv_negative" => plan with { Kv = plan.Kv with { First = -1 } },
            "kv_empty_window" => plan with { Kv = plan.Kv with { First = 0, Last = 0 } },
            "wire_dtype" => plan with { Kv = plan.Kv with { WireDtype = "fp8" } },
            _ => throw new ArgumentOutOfRangeException(nameof(rule)),
        };
        var error = Assert.Throws<PrunePlanException>(plan.Validate);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_valid_plan_round_trips_and_a_plan_for_other_weights_is_refused()
    {
        using var directory = new TempDirectory();
        string path = directory.Combine("plan.json");
        Valid().Save(path);
        Assert.False(File.Exists(path + ".tmp"));
        PrunePlan loaded = PrunePlan.Load(path);
        Assert.Equal(Valid().Fingerprint(), loaded.Fingerprint());
        loaded.EnsureMatches("ABC123", 6);
        Assert.Contains("made for model abc123", Assert.Throws<PrunePlanException>(() => loaded.EnsureMatches("def456", 6)).Message);
        Assert.Contains("6 blocks, this model has 5", Assert.Throws<PrunePlanException>(() => loaded.EnsureMatches("abc123", 5)).Message);
        File.WriteAllText(path, "{ not json");
        Assert.Contains("is not a valid plan", Assert.Throws<PrunePlanException>(() => PrunePlan.Load(path)).Message);
        Assert.Contains("does not exist", Assert.Throws<PrunePlanException>(() => PrunePlan.Load(directory.Combine("none.json"))).Message);
    }

    [Fact]
    public void Kv_bytes_ratio_follows_the_formula()
    {
        var policy = new KvPolicy([0, 1, 3], First: 4, Last: 12, KvWireDtype.Float32);
        var decodeSkip = new HashSet<int> { 2 };
        // 4 blocks x 96 positions unpruned; sent: layers 0, 1, 3 keep 16 each, layer 2 not sent.
        Assert.Equal(4 * 96 / 48.0, KvBytes.Ratio(4, decodeSkip, policy, 96), 12);
        Assert.Equal(3 * 96 / 48.0, KvBytes.PolicyOnlyRatio(4, decodeSkip, policy, 96), 12);
        // A prompt no longer than first + last is sent whole.
        Assert.Equal(4 / 3.0, KvBytes.Ratio(4, decodeSkip, policy, 10), 12);
    }

    [Theory]
    [InlineData("auto", true, null, null)]
    [InlineData("3", false, 3, null)]
    [InlineData("none", false, 0, null)]
    [InlineData("5,", false, null, new[] { 5 })]
    [InlineData("7, 2,2", false, null, new[] { 2, 7 })]
    public void Kv_layer_requests_parse(string text, bool auto, int? count, int[]? layers)
    {
        Assert.True(KvLayerRequest.TryParse(text, out KvLayerRequest request));
        Assert.Equal(auto, request.Auto);
        Assert.Equal(count, request.Count);
        Assert.Equal(layers, request.Layers);
        Assert.False(KvLayerRequest.TryParse("x,1", out _));
        Assert.False(KvLayerRequest.TryParse("-2", out _));
    }
}
