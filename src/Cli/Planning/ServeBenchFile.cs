using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Planning;

/// <summary>A <c>pdserve bench serve --out FILE.json</c> result read back, with the file it came from.</summary>
public sealed record ServeBenchFile(string Path, ServeBenchReport Report)
{
    /// <summary>Throws <see cref="CliError"/> naming the file when it is missing or not a bench serve result.</summary>
    public static ServeBenchFile Load(string path)
    {
        if (!File.Exists(path)) throw new CliError($"plan-capacity: {path} does not exist");
        try
        {
            var report = JsonSerializer.Deserialize<ServeBenchReport>(File.ReadAllText(path), BenchmarkJson.Options)
                         ?? throw new CliError($"plan-capacity: {path} is empty");
            if (report.Rates is null || report.Rates.Count == 0) throw new CliError($"plan-capacity: {path} has no rates");
            return new ServeBenchFile(path, report);
        }
        catch (JsonException e)
        {
            throw new CliError($"plan-capacity: {path} is not a bench serve result: {e.Message}");
        }
    }
}
