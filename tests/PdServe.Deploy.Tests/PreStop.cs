using k8s.Models;

namespace PdServe.Deploy.Tests;

/// <summary>How long a container's preStop hook holds the pod before SIGTERM.</summary>
public static class PreStop
{
    /// <summary>The seconds of an <c>exec: [/bin/sleep, N]</c> or <c>sleep: {seconds: N}</c> hook; 0 without a hook.</summary>
    public static int Seconds(V1Container container)
    {
        V1LifecycleHandler? hook = container.Lifecycle?.PreStop;
        if (hook is null) return 0;
        if (hook.Sleep is { } sleep) return (int)sleep.Seconds;
        if (hook.Exec?.Command is [_, string seconds] && hook.Exec.Command[0].EndsWith("/sleep", StringComparison.Ordinal))
            return int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"container {container.Name}: a preStop hook other than sleep; its length is unknown");
    }
}
