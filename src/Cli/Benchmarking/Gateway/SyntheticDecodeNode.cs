using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdServe.Contracts;

namespace PdServe.Cli.Benchmarking.Gateway;

/// <summary>
/// A decode node that does no work: on 127.0.0.1 (h2c, like the real nodes) it answers every Generate with the same
/// tokens at once, so that timing a call through the gateway against a direct call isolates the gateway's cost.
/// </summary>
public sealed class SyntheticDecodeNode : IAsyncDisposable
{
    private readonly WebApplication app;

    private SyntheticDecodeNode(WebApplication app) => this.app = app;

    public string Address { get; private set; } = "";

    public static async Task<SyntheticDecodeNode> StartAsync(IReadOnlyList<int> tokens)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new Script(tokens));
        var app = builder.Build();
        app.MapGrpcService<Service>();
        app.MapGet("/healthz", () => Results.Ok("ok"));
        await app.StartAsync();
        return new SyntheticDecodeNode(app)
        {
            Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(),
        };
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private sealed record Script(IReadOnlyList<int> Tokens);

    private sealed class Service(Script script) : DecodeService.DecodeServiceBase
    {
        public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> stream, ServerCallContext context)
        {
            int count = Math.Min(script.Tokens.Count, Math.Max(1, request.Sampling.MaxTokens));
            for (int i = 0; i < count; i++)
                await stream.WriteAsync(new GenerateEvent { Token = new TokenEvent { TokenId = script.Tokens[i], Logprob = -1f } });
            await stream.WriteAsync(new GenerateEvent
            {
                Finished = new SampleFinished { FinishReason = count < script.Tokens.Count ? "length" : "stop", CompletionTokens = count },
            });
            await stream.WriteAsync(new GenerateEvent
            {
                Summary = new RequestSummary { PromptTokens = request.PromptTokenIds.Count, CompletionTokens = count },
            });
        }
    }
}
