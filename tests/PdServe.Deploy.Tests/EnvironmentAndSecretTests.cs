using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s.Models;
using PdServe.Gateway.Api;
using PdServe.Gateway.Hosting;
using PdServe.Gateway.Routing;

namespace PdServe.Deploy.Tests;

/// <summary>
/// The environment each container sets is what its process reads, every secret value comes from the one generated
/// Secret, and no value is in the repository.
/// </summary>
[Collection(DeployedClusterCollection.Name)]
public sealed partial class EnvironmentAndSecretTests(DeployedCluster cluster) : IDisposable
{
    private readonly HttpClient http = new();

    public void Dispose() => http.Dispose();

    [Fact]
    public void Node_containers_set_only_variables_the_code_reads()
    {
        // Every environment variable a PdServe assembly names (public const EnvironmentVariable fields).
        var read = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name?.StartsWith("PdServe.", StringComparison.Ordinal) == true || a.GetName().Name == "pdserve")
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.Name == "EnvironmentVariable")
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet();
        Assert.Contains(PdServe.Contracts.NodeToken.EnvironmentVariable, read);
        foreach (string role in Labels.NodeRoles)
        {
            V1Container container = cluster.CommandLine(role).Container;
            Assert.All(container.Env, e => Assert.Contains(e.Name, read));
            Assert.Contains(container.Env, e => e.Name == PdServe.Contracts.NodeToken.EnvironmentVariable);
        }
    }

    [Fact]
    public void Every_gateway_variable_lands_in_an_option_the_gateway_reads()
    {
        // The running gateway was configured with exactly these keys (see DeployedCluster); each value must show up in
        // the options it bound, or the name is one the gateway never reads.
        string bound = JsonSerializer.Serialize(new object[]
        {
            GatewayApplication.Options<ApiKeyOptions>(cluster.Gateway),
            GatewayApplication.Options<RoutingOptions>(cluster.Gateway),
        });
        V1Container container = cluster.CommandLine("gateway").Container;
        Assert.NotEmpty(container.Env);
        foreach ((string key, string? value) in DeployedCluster.EnvironmentAsConfiguration(container))
            Assert.True(bound.Contains(JsonSerializer.Serialize(value), StringComparison.Ordinal), $"{key} is bound to no gateway option");
        Assert.Equal(DeployedCluster.SecretValue("node-token"), GatewayApplication.Options<RoutingOptions>(cluster.Gateway).NodeToken);
        Assert.Equal(new[] { DeployedCluster.SecretValue("api-key") }, GatewayApplication.Options<ApiKeyOptions>(cluster.Gateway).ApiKeys);
    }

    [Fact]
    public async Task A_completion_crosses_gateway_decode_and_prefill_with_the_secrets_as_the_pods_get_them()
    {
        // The gateway sends the node token it read, the decode node checks it and sends it on to the prefill node:
        // a completion succeeds only if all three read the same Secret key.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.GatewayAddress, "/v1/completions"))
        {
            Content = new StringContent("""{"model":"kjv-llama","prompt":"And God said","max_tokens":3,"temperature":0}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", DeployedCluster.SecretValue("api-key"));
        HttpResponseMessage response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using JsonDocument completion = JsonDocument.Parse(body);
        Assert.Equal(3, completion.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public void Every_secret_reference_names_the_generated_secret_and_a_key_its_one_liner_writes()
    {
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        (KustomizeGenerator generator, string directory) = Assert.Single(overlay.SecretGenerators.Values);
        string envFile = Assert.Single(generator.Envs);
        string oneLiner = OneLiner(Path.Combine(directory, "kustomization.yaml"));
        Assert.Contains(Path.Combine(RepoLayout.Relative(directory), envFile), oneLiner);
        string[] keys = SecretKey().Matches(oneLiner).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(new[] { "node-token", "api-key" }, keys);
        IEnumerable<V1SecretKeySelector> references = overlay.All<V1Deployment>()
            .SelectMany(d => d.Spec.Template.Spec.Containers).SelectMany(c => c.Env ?? [])
            .Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>()
            .Concat(overlay.All<ServiceMonitor>().SelectMany(m => m.Spec.Endpoints).Select(e => e.Authorization?.Credentials).OfType<V1SecretKeySelector>());
        Assert.All(references, r =>
        {
            Assert.Equal(generator.Name, r.Name);
            Assert.Contains(r.Key, keys);
        });
        // deploy/README.md gives the operator the same command.
        Assert.Contains(oneLiner, File.ReadAllText(RepoLayout.DeployReadme));
    }

    [Fact]
    public void No_secret_value_is_committed_and_the_file_that_holds_them_is_ignored()
    {
        foreach (string file in Directory.EnumerateFiles(RepoLayout.Kubernetes, "*.yaml", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "kustomization.yaml" || Path.GetFullPath(file) == Path.GetFullPath(RepoLayout.AdapterValues)) continue;
            Assert.DoesNotContain(ManifestLoader.LoadFile(file), m => m.Value is V1Secret);
        }
        RenderedKustomization overlay = KustomizeRenderer.Render(RepoLayout.ExampleOverlay);
        foreach ((KustomizeGenerator generator, string directory) in overlay.SecretGenerators.Values)
        {
            string ignore = Path.Combine(directory, ".gitignore");
            Assert.True(File.Exists(ignore), $"{RepoLayout.Relative(directory)} has no .gitignore for {string.Join(", ", generator.Envs)}");
            string[] ignored = File.ReadAllLines(ignore);
            Assert.All(generator.Envs.Concat(generator.Files), f => Assert.Contains(f, ignored));
        }
    }

    /// <summary>The command in a kustomization's comments that writes its secrets file.</summary>
    private static string OneLiner(string kustomization) =>
        File.ReadAllLines(kustomization).Select(l => l.TrimStart('#', ' ')).Single(l => l.StartsWith("printf ", StringComparison.Ordinal));

    [GeneratedRegex(@"(?:'|\\n)([a-z][a-z-]*)=")]
    private static partial Regex SecretKey();
}
