using System.Globalization;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>What Linux /proc says about a process: whether it still runs, and its resident memory.</summary>
public static class ProcStatus
{
    /// <summary>Running (any state but zombie or dead): a zombie is an exited process its parent has not reaped yet.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces and parentheses.
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>VmRSS of <c>/proc/PID/status</c> in MiB; null when the process is gone.</summary>
    public static double? RssMiB(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                string kib = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return double.Parse(kib, CultureInfo.InvariantCulture) / 1024;
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
