using PdServe.Cli.Benchmarking.Scale;
using PdServe.Cli.Cluster;

namespace PdServe.Cli.Tests.Scale;

/// <summary>The rehearsal's scaling steps: decode then prefill, one node at a time, with the pool sizes after each.</summary>
public sealed class ScaleScheduleTests
{
    [Fact]
    public void The_default_schedule_scales_decode_1_3_1_then_prefill_1_2_1()
    {
        var steps = ScaleSchedule.Steps([1, 2, 1], [1, 3, 1]);
        Assert.Equal(
        [
            new ScaleStep(NodeRole.Decode, true, 1, 2), new ScaleStep(NodeRole.Decode, true, 1, 3),
            new ScaleStep(NodeRole.Decode, false, 1, 2), new ScaleStep(NodeRole.Decode, false, 1, 1),
            new ScaleStep(NodeRole.Prefill, true, 2, 1), new ScaleStep(NodeRole.Prefill, false, 1, 1),
        ], steps);
    }

    [Fact]
    public void Pools_that_start_larger_or_stay_put_take_only_the_steps_their_sizes_name()
    {
        Assert.Empty(ScaleSchedule.Steps([1], [2]));
        Assert.Equal([new ScaleStep(NodeRole.Decode, false, 2, 1), new ScaleStep(NodeRole.Prefill, false, 1, 1)], ScaleSchedule.Steps([2, 1], [2, 1]));
    }

    [Theory]
    [InlineData("1,3,1", new[] { 1, 3, 1 })]
    [InlineData(" 2 ", new[] { 2 })]
    public void Sizes_parse(string text, int[] sizes) => Assert.Equal(sizes, ScaleSchedule.ParseSizes(text));

    [Theory]
    [InlineData("0,1")]
    [InlineData("1,17")]
    [InlineData("1,,2")]
    [InlineData("-1")]
    public void Bad_sizes_are_refused(string text)
    {
        Assert.False(ScaleSchedule.TryParseSizes(text, out _));
        Assert.Throws<FormatException>(() => ScaleSchedule.ParseSizes(text));
    }
}
