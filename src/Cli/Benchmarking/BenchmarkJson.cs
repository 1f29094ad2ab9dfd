using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdServe.Cli.Benchmarking;

/// <summary>How every benchmark writes (and a reader reads back) its JSON results: indented, camelCase, nulls kept.</summary>
public static class BenchmarkJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
