using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using PdServe.Telemetry;

namespace PdServe.Cli.Cluster;

/// <summary>
/// <c>pdserve up --trace</c>'s console view: gathers the span lines of the gateway (in this process) and of every node
/// (their standard output) and, shortly after a request's gateway server span ends, prints that request's spans from
/// all three processes as one indented timeline — offsets from the request's arrival, durations, PdServe's attributes,
/// and the events (layers done, first token) condensed.
/// </summary>
public sealed class TraceTimeline(TextWriter output)
{
    public const string GatewayService = "pdserve-gateway";
    /// <summary>
    /// Node spans of a request end about when the gateway's does, but their lines cross a pipe: a trace is printed once
    /// it is whole (<see cref="IsWhole"/>), or after this long at most (a call that never reached its node).
    /// </summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    /// <summary>Spans of traces that never end at this gateway (a node called directly) are dropped after this.</summary>
    private static readonly TimeSpan Forget = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, ConcurrentQueue<SpanLine>> traces = new();
    private readonly ConcurrentDictionary<string, DateTime> firstSeen = new();

    /// <summary>Raised with a request's spans (all processes) when its timeline is printed.</summary>
    public event Action<IReadOnlyList<SpanLine>>? Completed;

    /// <summary>Takes a node's output line if it is a span line (true: the caller should not log it).</summary>
    public bool TryAdd(string line)
    {
        if (!SpanLine.TryParse(line, out SpanLine span)) return false;
        Add(span);
        return true;
    }

    public void Add(SpanLine span)
    {
        traces.GetOrAdd(span.TraceId, _ => new ConcurrentQueue<SpanLine>()).Enqueue(span);
        firstSeen.TryAdd(span.TraceId, DateTime.UtcNow);
        if (span.Service == GatewayService && span.Kind == "server")
            _ = PrintLaterAsync(span.TraceId);
        ForgetStale();
    }

    private async Task PrintLaterAsync(string traceId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < MaxWait && traces.TryGetValue(traceId, out var pending) && !IsWhole(pending.ToList()))
            await Task.Delay(Poll);
        if (!traces.TryRemove(traceId, out var spans)) return;
        firstSeen.TryRemove(traceId, out _);
        List<SpanLine> all = spans.ToList();
        string text = Render(all);
        lock (output)
        {
            output.Write(text);
            output.Flush();
        }
        Completed?.Invoke(all);
    }

    /// <summary>
    /// Whether every span's parent has arrived (but the gateway server span's, the client's) and every outgoing call
    /// (a client span) has the server span of the node it called: then no process's lines are still on their way.
    /// </summary>
    private static bool IsWhole(IReadOnlyList<SpanLine> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var parents = spans.Where(s => s.ParentSpanId is not null).Select(s => s.ParentSpanId!).ToHashSet();
        bool parentsPresent = spans.All(s => s.ParentSpanId is null || ids.Contains(s.ParentSpanId)
                                             || (s.Service == GatewayService && s.Kind == "server"));
        bool callsAnswered = spans.Where(s => s.Kind == "client").All(s => parents.Contains(s.SpanId));
        return parentsPresent && callsAnswered;
    }

    private void ForgetStale()
    {
        DateTime cutoff = DateTime.UtcNow - Forget;
        foreach (var (traceId, seen) in firstSeen)
        {
            if (seen >= cutoff) continue;
            traces.TryRemove(traceId, out _);
            firstSeen.TryRemove(traceId, out _);
        }
    }

    /// <summary>The timeline of one trace's spans, rooted at its gateway server span.</summary>
    public static string Render(IReadOnlyList<SpanLine> spans)
    {
        SpanLine root = spans.Where(s => s.Service == GatewayService && s.Kind == "server").MinBy(s => s.StartUnixMicros)
                        ?? spans.MinBy(s => s.StartUnixMicros)!;
        var children = spans.Where(s => s != root).ToLookup(s => s.ParentSpanId ?? "");
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"trace {root.TraceId}  {root.Name}  {Milliseconds(root.DurationMicros)} ms");
        if (root.Attributes.TryGetValue(SpanAttributes.RequestId, out string? id)) text.Append(CultureInfo.InvariantCulture, $"  request {id}");
        text.AppendLine();
        var printed = new HashSet<SpanLine>();
        void Write(SpanLine span, int depth)
        {
            printed.Add(span);
            text.Append(CultureInfo.InvariantCulture,
                $"  {"+" + Milliseconds(span.StartUnixMicros - root.StartUnixMicros),9} {Milliseconds(span.DurationMicros),9} ms  {Service(span),-8}{new string(' ', 2 * depth)}{span.Name}");
            string details = Details(span);
            if (details.Length > 0) text.Append("  ").Append(details);
            text.AppendLine();
            foreach (SpanLine child in children[span.SpanId].OrderBy(c => c.StartUnixMicros)) Write(child, depth + 1);
        }
        Write(root, 0);
        // Spans whose parent is missing (their line was lost or came late) still show, at the end.
        foreach (SpanLine orphan in spans.Where(s => !printed.Contains(s)).OrderBy(s => s.StartUnixMicros).ToList())
        {
            // An earlier orphan's subtree may have printed this one already.
            if (!printed.Contains(orphan)) Write(orphan, 1);
        }
        return text.ToString();
    }

    private static string Service(SpanLine span) => span.Service.StartsWith("pdserve-", StringComparison.Ordinal) ? span.Service["pdserve-".Length..] : span.Service;

    private static string Details(SpanLine span)
    {
        var parts = span.Attributes
            .Where(a => a.Key.StartsWith("pdserve.", StringComparison.Ordinal) && a.Key != SpanAttributes.RequestId)
            .Select(a => $"{a.Key["pdserve.".Length..]}={a.Value}")
            .ToList();
        var layers = span.Events.Where(e => e.Name == SpanAttributes.LayerDoneEvent).ToList();
        if (layers.Count > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"{layers.Count} layers done +{Milliseconds(layers[0].OffsetMicros)}..+{Milliseconds(layers[^1].OffsetMicros)} ms"));
        foreach (SpanLineEvent other in span.Events.Where(e => e.Name != SpanAttributes.LayerDoneEvent))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{other.Name} at +{Milliseconds(other.OffsetMicros)} ms"));
        if (span.Error) parts.Add("ERROR");
        return string.Join(", ", parts);
    }

    private static string Milliseconds(long micros) => (micros / 1000.0).ToString("0.0", CultureInfo.InvariantCulture);
}
