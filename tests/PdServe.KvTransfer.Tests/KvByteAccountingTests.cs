using PdServe.KvTransfer.Accounting;
using PdServe.Contracts;

namespace PdServe.KvTransfer.Tests;

public class KvByteAccountingTests
{
    [Theory]
    // prompt tokens, expected bytes with layers 1 and 3 of 4 selected (first 4, last 12): kvHeads 3, headDim 64.
    [InlineData(10)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(2048)]
    public void Full_pruned_and_sent_follow_the_formula_for_each_wire_dtype(int promptTokens)
    {
        const int kvHeads = 3, headDim = 64;
        int kept = promptTokens <= 16 ? promptTokens : 16;
        int[] keptPerLayer = [promptTokens, kept, promptTokens, kept];
        long perPositionFloat32 = 2L * kvHeads * headDim * 4; // keys and values

        var fp32 = KvByteAccounting.For(promptTokens, kvHeads, headDim, 4, keptPerLayer, WireDtype.Float32);
        Assert.Equal(4 * promptTokens * perPositionFloat32, fp32.Full);
        Assert.Equal((2L * promptTokens + 2L * kept) * perPositionFloat32, fp32.PrunedFloat32);
        Assert.Equal(fp32.PrunedFloat32, fp32.Sent);

        var bf16 = KvByteAccounting.For(promptTokens, kvHeads, headDim, 4, keptPerLayer, WireDtype.Bfloat16);
        Assert.Equal(fp32.PrunedFloat32 / 2, bf16.Sent);
        Assert.Equal(fp32.Full, bf16.Full);

        var int8 = KvByteAccounting.For(promptTokens, kvHeads, headDim, 4, keptPerLayer, WireDtype.Int8);
        long scales = 4 * 2L * kvHeads * headDim * 4; // per layer, per tensor, one float32 per channel
        Assert.Equal(fp32.PrunedFloat32 / 4 + scales, int8.Sent);
    }

    [Fact]
    public void The_reduction_on_a_2k_prompt_with_half_the_layers_selected_is_the_ratio_of_positions()
    {
        int[] kept = [2048, 16, 2048, 16];
        var accounting = KvByteAccounting.For(2048, 2, 64, 4, kept, WireDtype.Float32);
        Assert.Equal(4.0 * 2048 / (2 * 2048 + 2 * 16), accounting.Reduction, 10);
    }

    [Fact]
    public void Full_is_every_layer_of_the_model_whether_or_not_it_is_sent()
    {
        // A 12-layer model whose decode stage skips 3 blocks: 9 layers sent, every position, float32.
        int[] sent = Enumerable.Repeat(96, 9).ToArray();
        var accounting = KvByteAccounting.For(96, 2, 16, 12, sent, WireDtype.Float32);
        long perLayer = 2L * 2 * 16 * 4 * 96;
        Assert.Equal(12 * perLayer, accounting.Full);
        Assert.Equal(9 * perLayer, accounting.PrunedFloat32);
        Assert.Equal(12 / 9.0, accounting.Reduction, 12);
        Assert.Throws<ArgumentException>(() => KvByteAccounting.For(96, 2, 16, 8, sent, WireDtype.Float32));
    }
}
