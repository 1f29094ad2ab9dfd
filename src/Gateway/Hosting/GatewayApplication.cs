using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using PdServe.Gateway.Api;
using PdServe.Gateway.Chat;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Metrics;
using PdServe.Gateway.Model;
using PdServe.Gateway.Routing;
using Prometheus;
using Yarp.ReverseProxy.LoadBalancing;

using PdServe.Telemetry;

namespace PdServe.Gateway.Hosting;

/// <summary>
/// Builds the gateway: configuration (appsettings, configs files with reload, environment, overrides), the YARP
/// pools (clusters <c>prefill</c> and <c>decode</c> under <c>ReverseProxy</c>, DNS destination resolution, active
/// health checks), and the endpoints: the OpenAI API under <c>/v1</c>, <c>/healthz</c>, <c>/pools</c>, <c>/metrics</c>.
/// The composition root: each feature's options are bound here from its part of the <c>Gateway</c> section.
/// </summary>
public static class GatewayApplication
{
    public const string GatewaySection = "Gateway";
    public const string LimitsSection = "Gateway:Limits";
    public const string ReverseProxySection = "ReverseProxy";

    /// <exception cref="PdServe.Engine.Loading.ModelLoadException">The model directory's config or tokenizer is unusable.</exception>
    public static WebApplication Build(GatewayHostSettings settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        foreach (string file in settings.ConfigFiles)
            builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: true);
        // The environment overrides the files (containers configure that way), and the caller's overrides win over all.
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings.Overrides);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        // Every failed probe would log a stack trace each interval; the switch to Unhealthy is still logged once.
        builder.Logging.AddFilter("Yarp.ReverseProxy.Health.ActiveHealthCheckMonitor", LogLevel.Error);

        var gatewaySection = builder.Configuration.GetSection(GatewaySection);
        var limitsSection = builder.Configuration.GetSection(LimitsSection);
        var modelOptions = gatewaySection.Get<ServedModelOptions>() ?? new ServedModelOptions();
        var requestLimits = limitsSection.Get<RequestLimits>() ?? new RequestLimits();
        builder.WebHost.UseUrls(settings.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = requestLimits.MaxBodyBytes);

        var services = builder.Services;
        services.Configure<ApiKeyOptions>(gatewaySection);
        services.Configure<RoutingOptions>(gatewaySection);
        services.Configure<RequestLimits>(limitsSection);
        services.Configure<AdmissionLimits>(limitsSection);
        if (string.IsNullOrWhiteSpace(modelOptions.ModelDirectory))
            throw new InvalidOperationException($"{GatewaySection}:{nameof(ServedModelOptions.ModelDirectory)} is not set");
        var model = ServedModel.Load(modelOptions.ModelDirectory, modelOptions.ModelName);
        services.AddSingleton(model);
        services.AddSingleton(new ChatModel(model.Id, model.Tokenizer));
        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection(ReverseProxySection))
            .AddDnsDestinationResolver(dns => dns.RefreshPeriod = (gatewaySection.Get<RoutingOptions>() ?? new RoutingOptions()).DnsRefreshPeriod);
        services.AddSingleton<NodeLoadStore>();
        services.AddHostedService<NodeLoadMonitor>();
        services.AddSingleton<LeastReportedLoadPolicy>();
        services.AddSingleton<ILoadBalancingPolicy>(provider => provider.GetRequiredService<LeastReportedLoadPolicy>());
        services.AddSingleton(provider => new ConversationDirectory(provider.GetRequiredService<IOptionsMonitor<RoutingOptions>>().CurrentValue.ConversationDirectoryCapacity));
        services.AddSingleton<ILoadBalancingPolicy, ConversationAffinityPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, PrefixAffinityPolicy>();
        services.AddSingleton<NodeSelector>();
        services.AddSingleton<IPoolCensus>(provider => provider.GetRequiredService<NodeSelector>());
        services.AddSingleton<NodeFailureReporter>();
        services.AddSingleton<DecodeClients>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<ChatPromptBuilder>();
        services.AddSingleton<AdmissionGate>();
        services.AddSingleton<GenerationRunner>();
        services.AddSingleton<GenerationEndpoint>();
        services.AddSingleton<TokenizerEndpoints>();
        if (settings.Tracing is { } tracing) services.AddPdServeTracing(tracing);

        var app = builder.Build();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRouting();

        app.MapPost("/v1/completions", (HttpContext context, GenerationEndpoint endpoint) => endpoint.HandleCompletionsAsync(context));
        app.MapPost("/v1/chat/completions", (HttpContext context, GenerationEndpoint endpoint) => endpoint.HandleChatAsync(context));
        app.MapPost("/tokenize", (HttpContext context, TokenizerEndpoints endpoints) => endpoints.TokenizeAsync(context));
        app.MapPost("/detokenize", (HttpContext context, TokenizerEndpoints endpoints) => endpoints.DetokenizeAsync(context));
        app.MapGet("/v1/models", (ServedModel model) => ModelsEndpoint.List(model));
        app.MapGet("/v1/models/{id}", (string id, ServedModel model) => ModelsEndpoint.Get(id, model));
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapGet("/pools", PoolsEndpoint.Get);
        var registry = app.Services.GetRequiredService<GatewayMetrics>().Registry;
        app.MapMetrics(metrics => metrics.Registry = registry, "/metrics");
        // No routes are configured, so nothing is forwarded; mapping the proxy is what loads the clusters and starts
        // their health checks.
        app.MapReverseProxy();
        app.MapFallback(context => throw ApiException.NotFound($"No endpoint {context.Request.Method} {context.Request.Path}"));
        return app;
    }

    /// <summary>The first address the started server listens on, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? throw new InvalidOperationException("The gateway is not listening");

    /// <summary>One feature's options in force, e.g. <see cref="ApiKeyOptions"/> (for printing what a started gateway serves).</summary>
    public static TOptions Options<TOptions>(WebApplication app) where TOptions : class =>
        app.Services.GetRequiredService<IOptionsMonitor<TOptions>>().CurrentValue;
}
