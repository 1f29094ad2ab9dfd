namespace PdServe.Deploy.Tests;

/// <summary>The recommended Kubernetes labels the manifests select on.</summary>
public static class Labels
{
    public const string Name = "app.kubernetes.io/name";
    public const string Component = "app.kubernetes.io/component";

    /// <summary>The roles, as the component label and the pdserve command name them.</summary>
    public static readonly string[] Roles = ["gateway", "prefill", "decode"];
    public static readonly string[] NodeRoles = ["prefill", "decode"];
}
