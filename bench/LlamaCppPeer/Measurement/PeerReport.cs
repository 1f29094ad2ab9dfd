using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaCppPeer.Measurement;

/// <summary>
/// The --json file of a peer run: what ran where (machine, threads, dtype, llama.cpp's ISA line, library) and the
/// figures, under "measured" with the field names and units of <c>pdserve bench engine</c>'s throughput.measured.
/// </summary>
public sealed record PeerReport(
    string Engine,
    string LlamaSharpVersion,
    string? NativeLibrary,
    string SystemInfo,
    DateTime TimestampUtc,
    MachineDescription Machine,
    string Model,
    string Dtype,
    string GgufTensorTypes,
    long GgufBytes,
    int Threads,
    bool FlashAttention,
    string KvCacheType,
    PeerThroughputResult Measured)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // The tensor summary's "×" stays readable instead of becoming \u00D7; the file is data, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void WriteTo(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");
}
