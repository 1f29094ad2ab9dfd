using System.Runtime.InteropServices;

namespace PdServe.Cli.Benchmarking;

/// <summary>The machine a benchmark ran on, written into its JSON so every figure names its machine.</summary>
public sealed record MachineDescription(string Cpu, int Cores, double MemoryGiB, string Os, string Runtime, bool Gpu)
{
    public static MachineDescription Current() => new(
        ProcFileValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        Math.Round(MemoryKiB() / 1048576.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        // PdServe runs on CPU only; said explicitly so a reader does not have to guess.
        Gpu: false);

    public override string ToString() =>
        $"{Cpu}, {Cores} cores, {MemoryGiB:0.#} GiB, {Os}, {Runtime}, no GPU";

    private static double MemoryKiB()
    {
        string? total = ProcFileValue("/proc/meminfo", "MemTotal");
        return total is not null && double.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0],
            System.Globalization.CultureInfo.InvariantCulture, out double kib) ? kib : 0;
    }

    private static string? ProcFileValue(string path, string key)
    {
        if (!File.Exists(path)) return null;
        return File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();
    }
}
