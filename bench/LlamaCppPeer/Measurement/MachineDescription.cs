using System.Globalization;
using System.Runtime.InteropServices;

namespace LlamaCppPeer.Measurement;

/// <summary>
/// The machine a peer run was on, with the field names of the machine PdServe's serving benchmarks record (this tool
/// does not reference the CLI, so it reads /proc itself).
/// </summary>
public sealed record MachineDescription(string Cpu, int Cores, double MemoryGiB, string Os, string Runtime)
{
    public static MachineDescription Current() => new(
        ProcFileValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        Math.Round(MemoryKiB() / 1048576.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription);

    public override string ToString() => $"{Cpu}, {Cores} cores, {MemoryGiB:0.#} GiB, {Os}, {Runtime}";

    private static double MemoryKiB()
    {
        string? total = ProcFileValue("/proc/meminfo", "MemTotal");
        return total is not null && double.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0],
            CultureInfo.InvariantCulture, out double kib) ? kib : 0;
    }

    private static string? ProcFileValue(string path, string key)
    {
        if (!File.Exists(path)) return null;
        return File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();
    }
}
