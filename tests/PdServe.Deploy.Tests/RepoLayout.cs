using PdServe.TestSupport;

namespace PdServe.Deploy.Tests;

/// <summary>Where the deployment's files are in the checkout.</summary>
public static class RepoLayout
{
    public static string Root => RepoPaths.RepoRoot ?? throw new InvalidOperationException("the tests run outside a checkout (no PdServe.sln above them)");

    public static string Deploy => Path.Combine(Root, "deploy");
    public static string Kubernetes => Path.Combine(Deploy, "kubernetes");
    public static string Base => Path.Combine(Kubernetes, "base");
    public static string ExampleOverlay => Path.Combine(Kubernetes, "overlays", "example");
    public static string AdapterValues => Path.Combine(Kubernetes, "prometheus-adapter", "values.yaml");
    public static string Dockerfile => Path.Combine(Deploy, "Dockerfile");
    public static string OfflineImageScript => Path.Combine(Deploy, "build-image-offline.sh");
    public static string DeployReadme => Path.Combine(Deploy, "README.md");

    /// <summary>The gateway configuration for Kubernetes pools that configs/README.md documents.</summary>
    public static string KubernetesGatewayConfig => Path.Combine(Root, "configs", "gateway.k8s.json");

    /// <summary>The path of <paramref name="path"/> relative to the repository root, with forward slashes (for messages).</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');
}
