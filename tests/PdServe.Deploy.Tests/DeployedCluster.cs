using PdServe.Decode.Admission;
using System.Text.Json;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PdServe.Decode;
using PdServe.Gateway.Hosting;
using PdServe.NodeHosting;
using PdServe.Prefill;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The base manifests' three roles started in-process on 127.0.0.1 (free ports) as their pods would run: the image's
/// default model, the options their args parse to, the node token and API key each reads from the Secret's keys
/// through the environment variables its container names (a distinct stand-in value per Secret key), and the gateway
/// configuration of the mounted ConfigMap with its pools pointed at the loopback nodes instead of the Services' DNS
/// names. Everything started is stopped on dispose, also when starting fails half-way.
/// </summary>
public sealed class DeployedCluster : IAsyncLifetime
{
    private RunningNode? prefill;
    private RunningNode? decode;
    private WebApplication? gateway;

    public RenderedKustomization Base { get; } = KustomizeRenderer.Render(RepoLayout.Base);
    public RunningNode Prefill => prefill ?? throw NotStarted();
    public RunningNode Decode => decode ?? throw NotStarted();
    public WebApplication Gateway => gateway ?? throw NotStarted();
    public Uri GatewayAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The value each role received for each Secret key: "secret:KEY".</summary>
    public static string SecretValue(string key) => $"secret:{key}";

    public RunningNode Node(string role) => role switch
    {
        "prefill" => Prefill,
        "decode" => Decode,
        _ => throw new ArgumentException($"no node role {role}"),
    };

    public ContainerCommandLine CommandLine(string role)
    {
        V1PodSpec pod = Base.DeploymentOf(role).Spec.Template.Spec;
        return ContainerCommandLine.Parse(pod.Containers.Single(), pod, Base);
    }

    public async Task InitializeAsync()
    {
        try
        {
            ContainerCommandLine prefillLine = CommandLine("prefill"), decodeLine = CommandLine("decode"), gatewayLine = CommandLine("gateway");
            prefill = await PrefillNodeHost.StartAsync(new PrefillNodeOptions
            {
                ModelDirectory = prefillLine.Value<string>("--model")!,
                Host = Loopback(NodeTokenOf(prefillLine.Container)),
                Threads = prefillLine.Value<int>("--threads"),
            });
            decode = await DecodeNodeHost.StartAsync(new DecodeNodeOptions
            {
                ModelDirectory = decodeLine.Value<string>("--model")!,
                Host = Loopback(NodeTokenOf(decodeLine.Container)),
                Threads = decodeLine.Value<int>("--threads"),
                MaxBatchSize = decodeLine.Value<int>("--max-batch"),
                MaxContextTokens = decodeLine.Value<int>("--max-context"),
                KvBudgetBytes = decodeLine.Value<int>("--kv-budget-mb") * (1L << 20),
                TrustedPrefillNodes = [Address(prefill)],
            });
            await Task.WhenAll(prefill.Readiness.Loaded, decode.Readiness.Loaded);
            string config = gatewayLine.Value<string[]>("--config")!.Single();
            gateway = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = "http://127.0.0.1:0",
                ConfigFiles = [config],
                Overrides = GatewayOverrides(gatewayLine.Container, config),
                LogLevel = LogLevel.Warning,
            });
            await gateway.StartAsync();
            GatewayAddress = new Uri(GatewayApplication.ListeningAddress(gateway));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (gateway is not null)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
        if (decode is not null) await decode.DisposeAsync();
        if (prefill is not null) await prefill.DisposeAsync();
    }

    /// <summary>The environment a container would get, as ASP.NET Core configuration keys (Gateway__ApiKeys__0 → Gateway:ApiKeys:0).</summary>
    public static Dictionary<string, string?> EnvironmentAsConfiguration(V1Container container) =>
        (container.Env ?? []).ToDictionary(e => e.Name.Replace("__", ":", StringComparison.Ordinal), e => (string?)ValueOf(e));

    private static string? NodeTokenOf(V1Container container) =>
        container.Env?.SingleOrDefault(e => e.Name == PdServe.Contracts.NodeToken.EnvironmentVariable) is { } token ? ValueOf(token) : null;

    private static string ValueOf(V1EnvVar variable) =>
        variable.ValueFrom?.SecretKeyRef is { } secret ? SecretValue(secret.Key) : variable.Value ?? "";

    private static NodeHostSettings Loopback(string? nodeToken) =>
        new() { Host = "127.0.0.1", Port = 0, HttpPort = 0, NodeToken = nodeToken, MinimumLogLevel = LogLevel.Warning };

    private static string Address(RunningNode node) => node.Address.ToString().TrimEnd('/');

    /// <summary>The container's environment, the image's model folder, and every pool destination moved to the loopback node of its role.</summary>
    private Dictionary<string, string?> GatewayOverrides(V1Container container, string configFile)
    {
        Dictionary<string, string?> overrides = EnvironmentAsConfiguration(container);
        overrides["Gateway:ModelDirectory"] = ContainerCommandLine.ToRepositoryPath(ModelDirectoryIn(configFile), container, Base.DeploymentOf("gateway").Spec.Template.Spec, Base);
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(configFile));
        foreach (JsonProperty cluster in document.RootElement.GetProperty("ReverseProxy").GetProperty("Clusters").EnumerateObject())
        {
            RunningNode node = Node(cluster.Name);
            foreach (JsonProperty destination in cluster.Value.GetProperty("Destinations").EnumerateObject())
                overrides[$"ReverseProxy:Clusters:{cluster.Name}:Destinations:{destination.Name}:Address"] = Address(node);
        }
        return overrides;
    }

    public static string ModelDirectoryIn(string gatewayConfig)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(gatewayConfig));
        return document.RootElement.GetProperty("Gateway").GetProperty("ModelDirectory").GetString()!;
    }

    private static InvalidOperationException NotStarted() => new("the cluster is not started");
}
