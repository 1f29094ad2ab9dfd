using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PdServe.Cli.Cluster;
using PdServe.Telemetry;
using PdServe.TestSupport;

namespace PdServe.Gateway.Tests;

/// <summary>
/// One disaggregated request traced across the three real processes (<c>pdserve up --trace</c>'s cluster: node
/// processes printing span lines, the gateway in this process): one trace, continued from the client's W3C
/// traceparent, with the span tree the issue promises.
/// </summary>
public sealed class TracingTests
{
    [RequiresNodesFact]
    public async Task A_pd_request_is_one_trace_from_the_client_through_gateway_decode_and_prefill()
    {
        using var model = new TempDirectory("pdserve-trace");
        var config = TinyTokenizer.WriteModel(model.Path, TinyCheckpoint.LlamaGqa(), seed: 3);
        var log = new StringWriter();
        var status = new StringWriter();
        var traces = new ConcurrentQueue<IReadOnlyList<SpanLine>>();
        await using var cluster = new LocalCluster(
            new LocalClusterOptions { ModelDir = model.Path, Port = NodeSpec.FreePort(), Trace = true }, "up", log, status);
        cluster.Timeline!.Completed += traces.Enqueue;
        await cluster.StartAsync(CancellationToken.None);

        string traceId = ActivityTraceId.CreateRandom().ToHexString();
        string clientSpan = ActivitySpanId.CreateRandom().ToHexString();
        using var http = new HttpClient { BaseAddress = new Uri(cluster.Url), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = cluster.Model!.Id, prompt = "the cat sat", max_tokens = 4, temperature = 0 }),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{clientSpan}-01");
        request.Headers.Add("x-request-id", "traced-1");
        // The client is another process in real life; here it shares this one's tracer, whose HttpClient span would
        // replace the traceparent below. Suppressed, the gateway sees the client's context as sent.
        HttpResponseMessage response;
        using (OpenTelemetry.SuppressInstrumentationScope.Begin()) response = await http.SendAsync(request);
        using var sent = response;
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        IReadOnlyList<SpanLine>? spans = null;
        for (int i = 0; i < 200 && spans is null; i++)
        {
            spans = traces.FirstOrDefault(t => t[0].TraceId == traceId);
            if (spans is null) await Task.Delay(50);
        }
        Assert.True(spans is not null, $"no trace {traceId} was completed; printed: {status}");
        Assert.All(spans, s => Assert.Equal(traceId, s.TraceId));
        var byId = spans.ToDictionary(s => s.SpanId);
        SpanLine One(string service, string name) => Assert.Single(spans, s => s.Service == service && s.Name == name);
        bool Descends(SpanLine span, SpanLine ancestor)
        {
            for (SpanLine? at = span; at?.ParentSpanId is { } parent; at = byId.GetValueOrDefault(parent))
                if (parent == ancestor.SpanId) return true;
            return false;
        }

        // The gateway: its server span continues the client's trace; admission, routing, the call and TTFT under it.
        SpanLine root = One("pdserve-gateway", "POST /v1/completions");
        Assert.Equal(clientSpan, root.ParentSpanId);
        Assert.Equal("traced-1", root.Attributes[SpanAttributes.RequestId]);
        foreach (string name in new[] { "admission", "route", "generate", "time to first token" })
            Assert.Equal(root.SpanId, One("pdserve-gateway", name).ParentSpanId);
        SpanLine generate = One("pdserve-gateway", "generate");
        Assert.Contains(generate.Events, e => e.Name == SpanAttributes.FirstTokenEvent);

        // The decode node: its server span descends from the gateway's call (gRPC metadata carried the context).
        SpanLine decodeServer = Assert.Single(spans, s => s.Service == "pdserve-decode" && s.Kind == "server");
        Assert.True(Descends(decodeServer, generate), "the decode node's span is not under the gateway's call");
        SpanLine pull = One("pdserve-decode", "kv pull");
        SpanLine decode = One("pdserve-decode", "decode");
        Assert.Equal(decodeServer.SpanId, pull.ParentSpanId);
        Assert.Equal(decodeServer.SpanId, decode.ParentSpanId);
        Assert.Contains(decode.Events, e => e.Name == SpanAttributes.FirstTokenEvent);
        Assert.Equal("4", decode.Attributes[SpanAttributes.CompletionTokens]);

        // The prefill node: under the decode node's pull; its compute span has one event per layer and the bytes.
        SpanLine prefillServer = Assert.Single(spans, s => s.Service == "pdserve-prefill" && s.Kind == "server");
        Assert.True(Descends(prefillServer, pull), "the prefill node's span is not under the decode node's pull");
        SpanLine compute = One("pdserve-prefill", "prefill compute");
        Assert.Equal(prefillServer.SpanId, compute.ParentSpanId);
        Assert.Equal(config.NumLayers, compute.Events.Count(e => e.Name == SpanAttributes.LayerDoneEvent));
        Assert.Equal(pull.Attributes[SpanAttributes.KvBytesSent], compute.Attributes[SpanAttributes.KvBytesSent]);
        Assert.True(long.Parse(pull.Attributes[SpanAttributes.KvBytesSent]) > 0);
        Assert.True(compute.StartUnixMicros >= pull.StartUnixMicros, "the compute starts after the pull asked for it");

        // The console timeline names every process of the request.
        string printed = status.ToString();
        Assert.Contains($"trace {traceId}", printed);
        Assert.Contains("prefill compute", printed);
    }

    [Fact]
    public void Tracing_is_off_unless_an_exporter_is_asked_for()
    {
        using var off = new Microsoft.Extensions.DependencyInjection.ServiceCollection()
            .AddPdServeTracing(new TracingOptions { ServiceName = "pdserve-test" }).BuildServiceProvider();
        Assert.Null(off.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));

        using var otlp = new Microsoft.Extensions.DependencyInjection.ServiceCollection()
            .AddPdServeTracing(new TracingOptions { ServiceName = "pdserve-test", OtlpEndpoint = "http://127.0.0.1:4317" }).BuildServiceProvider();
        Assert.NotNull(otlp.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
        Assert.False(new TracingOptions { ServiceName = "x" }.Enabled);
        Assert.True(new TracingOptions { ServiceName = "x", SpanLines = true }.Enabled);
    }

    [Fact]
    public void A_span_line_survives_the_pipe_and_other_lines_are_not_spans()
    {
        var line = new SpanLine
        {
            TraceId = "0af7651916cd43dd8448eb211c80319c", SpanId = "b7ad6b7169203331", ParentSpanId = null, Service = "pdserve-decode",
            Name = "kv pull", Kind = "internal", StartUnixMicros = 12, DurationMicros = 34,
            Attributes = new Dictionary<string, string> { [SpanAttributes.KvBytesSent] = "99" },
            Events = [new SpanLineEvent { Name = SpanAttributes.FirstTokenEvent, OffsetMicros = 5 }],
        };
        Assert.True(SpanLine.TryParse(line.Format(), out SpanLine back));
        Assert.Equal(line.TraceId, back.TraceId);
        Assert.Equal("99", back.Attributes[SpanAttributes.KvBytesSent]);
        Assert.Equal(5, back.Events.Single().OffsetMicros);
        Assert.False(SpanLine.TryParse("info: Microsoft.Hosting.Lifetime[0] started", out _));
        Assert.False(SpanLine.TryParse(SpanLine.Prefix + "{not json", out _));
    }
}
