using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PdServe.Gateway.Chat;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Metrics;
using PdServe.Gateway.Model;
using PdServe.Telemetry;

namespace PdServe.Gateway.Api;

/// <summary>
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c>: validate, wait for a slot, generate, and answer
/// with one JSON body or an SSE stream. A stream's headers go out with its first text, so a request that fails
/// before that (no healthy node, overloaded) still gets a proper status and error JSON; a failure after that ends
/// the stream with an error event and <c>[DONE]</c>.
/// </summary>
public sealed class GenerationEndpoint(
    ServedModel model,
    ChatPromptBuilder chatPrompts,
    GenerationRunner runner,
    AdmissionGate admission,
    GatewayMetrics metrics,
    IOptionsMonitor<RequestLimits> limits,
    ILogger<GenerationEndpoint> logger)
{
    private static readonly CompletionFormat Completion = new();
    private static readonly ChatFormat Chat = new();

    public Task HandleCompletionsAsync(HttpContext context) =>
        HandleAsync(context, Completion, (body, current) => CompletionRequestReader.Read(body, model, current));

    public Task HandleChatAsync(HttpContext context) =>
        HandleAsync(context, Chat, (body, current) => ChatRequestReader.Read(body, model, chatPrompts, current));

    private async Task HandleAsync(HttpContext context, IResponseFormat format, Func<JsonElement, RequestLimits, GenerationParameters> read)
    {
        long started = Stopwatch.GetTimestamp();
        var current = limits.CurrentValue;
        GenerationParameters parameters;
        using (var body = await RequestBodyReader.ReadObjectAsync(context, current.MaxBodyBytes))
            parameters = read(body.RootElement, current);

        Activity.Current?.SetTag(SpanAttributes.RequestId, context.TraceIdentifier);
        IDisposable slot;
        using (Spans.Gateway.StartActivity("admission")) slot = await admission.EnterAsync(context.RequestAborted);
        using var heldSlot = slot;
        metrics.Inflight.Inc();
        try
        {
            var identity = new ResponseIdentity(format.IdPrefix + context.TraceIdentifier,
                DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model.Id);
            if (parameters.Stream)
                await StreamAsync(context, format, identity, parameters, started);
            else
            {
                var choices = new ChoiceAccumulator(parameters.ChoiceCount);
                var usage = await runner.RunAsync(identity.Id, parameters, context, started, choices.AddAsync);
                await context.Response.WriteAsJsonAsync(format.Response(identity, choices, parameters, Usage.From(usage)),
                    GatewayJson.Options, context.RequestAborted);
            }
        }
        finally
        {
            metrics.Inflight.Dec();
        }
    }

    private async Task StreamAsync(HttpContext context, IResponseFormat format, ResponseIdentity identity,
        GenerationParameters parameters, long started)
    {
        var sse = new SseWriter(context.Response);
        var cancellationToken = context.RequestAborted;
        async ValueTask StartIfNeeded()
        {
            if (context.Response.HasStarted) return;
            SseWriter.Start(context.Response);
            foreach (var chunk in format.OpeningChunks(identity, parameters)) await sse.WriteAsync(chunk, cancellationToken);
        }

        try
        {
            var usage = await runner.RunAsync(identity.Id, parameters, context, started, async delta =>
            {
                await StartIfNeeded();
                await sse.WriteAsync(format.Chunk(identity, delta, parameters), cancellationToken);
            });
            await StartIfNeeded();
            if (parameters.IncludeUsage) await sse.WriteAsync(format.UsageChunk(identity, Usage.From(usage)), cancellationToken);
            await sse.WriteDoneAsync(cancellationToken);
        }
        catch (Exception e) when (context.Response.HasStarted && !cancellationToken.IsCancellationRequested)
        {
            // The same rules as an error status: a known failure's message is written for the client; anything else
            // is logged and the client only learns which request to look up.
            var known = ApiException.From(e);
            if (known is null) logger.LogError(e, "Stream {Id} failed", identity.Id);
            var error = known ?? new ApiException(StatusCodes.Status500InternalServerError,
                $"Internal error (request {identity.Id}); see the gateway log", "server_error");
            await sse.WriteAsync(ErrorResponse.From(error), cancellationToken);
            await sse.WriteDoneAsync(cancellationToken);
        }
    }
}
