using System.Globalization;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Whether one node process instance (a node between two kills is one instance, its restart another) leaks memory:
/// growth = mean VmRSS over its last <see cref="Window"/> of samples ÷ mean VmRSS over the <see cref="Window"/> that
/// follows its first <see cref="Warmup"/> − 1, judged (must stay under <see cref="Limit"/>) only when the instance was
/// sampled for at least <see cref="MinimumLife"/>, so the two windows are disjoint and a full minute apart at least.
/// </summary>
public sealed record RssGrowth(string Node, int Pid, double LifeSeconds, double? BaselineMiB, double? FinalMiB, double? Growth, bool Judged, bool Passed)
{
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MinimumLife = TimeSpan.FromMinutes(3);
    public const double Limit = 0.05;

    public static string Definition => string.Create(CultureInfo.InvariantCulture,
        $"per process instance: mean VmRSS of its last {Window.TotalSeconds:0} s of samples vs the mean of the {Window.TotalSeconds:0} s after its first " +
        $"{Warmup.TotalSeconds:0} s (warm-up; each instance is first sent the run's largest shapes directly), must grow < {Limit * 100:0}%; " +
        $"instances sampled for less than {MinimumLife.TotalSeconds:0} s are reported, not judged");

    /// <summary>One judgement per instance seen in <paramref name="samples"/>, in order of first appearance.</summary>
    public static IReadOnlyList<RssGrowth> Judge(IReadOnlyList<ChaosSample> samples)
    {
        var instances = new Dictionary<(string Node, int Pid), List<(double Seconds, double Rss)>>();
        var order = new List<(string, int)>();
        foreach (var sample in samples)
            foreach (var node in sample.Nodes)
            {
                if (node.RssMiB is not { } rss) continue;
                var key = (node.Node, node.Pid);
                if (!instances.TryGetValue(key, out var series))
                {
                    instances[key] = series = [];
                    order.Add(key);
                }
                series.Add((sample.Seconds, rss));
            }
        return [.. order.Select(key => Of(key.Item1, key.Item2, instances[key]))];
    }

    private static RssGrowth Of(string node, int pid, List<(double Seconds, double Rss)> series)
    {
        double first = series[0].Seconds, last = series[^1].Seconds, life = last - first;
        if (life < MinimumLife.TotalSeconds) return new(node, pid, life, null, null, null, Judged: false, Passed: false);
        double baselineStart = first + Warmup.TotalSeconds, baselineEnd = baselineStart + Window.TotalSeconds;
        double baseline = series.Where(s => s.Seconds >= baselineStart && s.Seconds < baselineEnd).Average(s => s.Rss);
        double final = series.Where(s => s.Seconds > last - Window.TotalSeconds).Average(s => s.Rss);
        double growth = final / baseline - 1;
        return new(node, pid, life, baseline, final, growth, Judged: true, Passed: growth < Limit);
    }
}
