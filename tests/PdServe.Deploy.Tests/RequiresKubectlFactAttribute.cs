namespace PdServe.Deploy.Tests;

/// <summary>A [Fact] reported as skipped where kubectl (which bundles kustomize) is not on PATH.</summary>
public sealed class RequiresKubectlFactAttribute : FactAttribute
{
    public RequiresKubectlFactAttribute()
    {
        if (Kubectl.Path is null) Skip = "kubectl not found on PATH (it renders the kustomizations with the real kustomize)";
    }
}
