using System.CommandLine;
using k8s.Models;
using PdServe.Cli;
using PdServe.Cli.Terminal;

namespace PdServe.Deploy.Tests;

/// <summary>
/// A container's args parsed by the pdserve CLI's own parser (<see cref="Program.BuildRootCommand"/>), after its
/// container paths are mapped to the repository files the image or a mounted ConfigMap holds there, so the parser's
/// checks (an existing model directory, an existing config file) hold for what the pod will see.
/// </summary>
public sealed class ContainerCommandLine
{
    private ContainerCommandLine(V1Container container, ParseResult result)
    {
        Container = container;
        Result = result;
    }

    public V1Container Container { get; }
    public ParseResult Result { get; }

    /// <summary>The subcommand: prefill, decode or gateway.</summary>
    public string Command => Result.CommandResult.Command.Name;

    public T? Value<T>(string option) => Result.GetValue<T>(option);

    public static ContainerCommandLine Parse(V1Container container, V1PodSpec pod, RenderedKustomization rendered)
    {
        string[] args = (container.Args ?? []).Select(a => ToRepositoryPath(a, container, pod, rendered)).ToArray();
        RootCommand root = Program.BuildRootCommand(new CliContext(TextWriter.Null, TextWriter.Null));
        return new ContainerCommandLine(container, root.Parse(args));
    }

    /// <summary>
    /// The repository file behind a container path: the image's default model, or a file of a ConfigMap mounted in
    /// the container; any other argument unchanged.
    /// </summary>
    public static string ToRepositoryPath(string argument, V1Container container, V1PodSpec pod, RenderedKustomization rendered)
    {
        if (argument == ImageLayout.DefaultModel || argument.StartsWith(ImageLayout.DefaultModel + "/", StringComparison.Ordinal))
            return Path.Combine(RepoLayout.Root, ImageLayout.DefaultModelSource) + argument[ImageLayout.DefaultModel.Length..];
        foreach (V1VolumeMount mount in container.VolumeMounts ?? [])
        {
            if (!argument.StartsWith(mount.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal)) continue;
            V1Volume? volume = pod.Volumes?.SingleOrDefault(v => v.Name == mount.Name);
            if (volume?.ConfigMap?.Name is not { } configMap || !rendered.ConfigMapFiles.TryGetValue(configMap, out var files)) continue;
            string key = argument[(mount.MountPath.TrimEnd('/').Length + 1)..];
            // A key the ConfigMap lacks stays a container path, so the parser reports the missing file.
            if (files.TryGetValue(key, out string? source)) return source;
        }
        return argument;
    }
}
