using System.Reflection;

namespace PdServe.Cli.Terminal;

/// <summary>What the CLI calls itself (its messages start with the name) and its version, from this assembly.</summary>
public static class CliIdentity
{
    public const string Name = "pdserve";

    public static string Version { get; } =
        typeof(CliIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliIdentity).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
