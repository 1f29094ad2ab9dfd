using PdServe.Cli.Cluster;
using PdServe.Telemetry;

namespace PdServe.Cli.Tests.Cluster;

public sealed class TraceTimelineTests
{
    private static SpanLine Span(string id, string? parent, string service, string name, long startMs, long durationMs, string kind = "internal",
        IReadOnlyDictionary<string, string>? attributes = null, IReadOnlyList<SpanLineEvent>? events = null) => new()
    {
        TraceId = "t1", SpanId = id, ParentSpanId = parent, Service = service, Name = name, Kind = kind,
        StartUnixMicros = 1_000_000_000 + startMs * 1000, DurationMicros = durationMs * 1000,
        Attributes = attributes ?? new Dictionary<string, string>(), Events = events ?? [],
    };

    [Fact]
    public void A_request_renders_once_as_one_tree_across_the_three_processes_in_start_order()
    {
        var spans = new List<SpanLine>
        {
            Span("p2", "p1", "pdserve-prefill", "prefill compute", 30, 20, events:
                [new SpanLineEvent { Name = SpanAttributes.LayerDoneEvent, OffsetMicros = 5000 }, new SpanLineEvent { Name = SpanAttributes.LayerDoneEvent, OffsetMicros = 15000 }]),
            Span("d1", "g3", "pdserve-decode", "POST /Generate", 12, 80, "server"),
            Span("g1", null, "pdserve-gateway", "POST /v1/completions", 0, 100, "server",
                new Dictionary<string, string> { [SpanAttributes.RequestId] = "req-7" }),
            Span("g2", "g1", "pdserve-gateway", "admission", 1, 1),
            Span("g3", "g1", "pdserve-gateway", "generate", 10, 85,
                attributes: new Dictionary<string, string> { [SpanAttributes.KvBytesSent] = "4096", ["http.method"] = "POST" }),
            Span("d2", "d1", "pdserve-decode", "kv pull", 15, 40),
            Span("p1", "d2", "pdserve-prefill", "POST /Prefill", 20, 35, "server"),
            Span("x1", "missing", "pdserve-decode", "late child", 90, 1),
            Span("x2", "x1", "pdserve-decode", "child of the late one", 91, 1),
        };

        string text = TraceTimeline.Render(spans);
        string[] lines = text.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        Assert.StartsWith("trace t1  POST /v1/completions  100.0 ms  request req-7", lines[0]);
        // An orphan prints once, with its own subtree, after the tree.
        string[] names = ["POST /v1/completions", "admission", "generate", "POST /Generate", "kv pull", "POST /Prefill", "prefill compute", "late child", "child of the late one"];
        Assert.Equal(names.Length + 1, lines.Length);
        for (int i = 0; i < names.Length; i++) Assert.EndsWith(names[i], lines[i + 1].Split("  ").Where(p => p.Length > 0).Select(p => p.Trim()).First(p => names.Any(n => p.EndsWith(n, StringComparison.Ordinal))));
        Assert.Contains("+30.0", lines[7]);
        Assert.Contains("2 layers done +5.0..+15.0 ms", lines[7]);
        Assert.Contains("kv.bytes_sent=4096", lines[3]);
        Assert.DoesNotContain("http.method", text);
        // Depth shows in the indentation: each hop of the chain one level deeper.
        int Indent(string line, string name) => line.IndexOf(name, StringComparison.Ordinal);
        Assert.True(Indent(lines[1], "POST /v1") < Indent(lines[3], "generate"));
        Assert.True(Indent(lines[3], "generate") < Indent(lines[4], "POST /Generate"));
        Assert.True(Indent(lines[6], "POST /Prefill") < Indent(lines[7], "prefill compute"));
    }

    [Fact]
    public async Task Span_lines_are_taken_and_a_finished_gateway_request_is_printed_once()
    {
        var output = new StringWriter();
        var timeline = new TraceTimeline(output);
        Assert.False(timeline.TryAdd("[decode0] some log line"));
        Assert.True(timeline.TryAdd(Span("d1", "g1", "pdserve-decode", "POST /Generate", 1, 5, "server").Format()));
        timeline.Add(Span("g1", null, "pdserve-gateway", "POST /v1/completions", 0, 10, "server"));

        for (int i = 0; i < 100 && output.ToString().Length == 0; i++) await Task.Delay(20);
        string text = output.ToString();
        Assert.Contains("POST /Generate", text);
        Assert.Single(text.Split('\n'), l => l.StartsWith("trace t1", StringComparison.Ordinal));
    }
}
