using System.Diagnostics;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Cluster;

/// <summary>
/// How to start another <c>pdserve</c> process: the apphost when this process is one, else <c>dotnet pdserve.dll</c>
/// (running as <c>dotnet pdserve.dll</c>, or hosted by a test runner, whose entry assembly is not pdserve's: so the
/// assembly is the one this type is in).
/// </summary>
public static class PdServeExecutable
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        string? processPath = Environment.ProcessPath;
        string assembly = typeof(PdServeExecutable).Assembly.Location;
        ProcessStartInfo info;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == CliIdentity.Name)
            info = new ProcessStartInfo(processPath);
        else
        {
            string dotnet = processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
            info = new ProcessStartInfo(dotnet);
            info.ArgumentList.Add(assembly);
        }
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        info.UseShellExecute = false;
        return info;
    }
}
