using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PdServe.Engine.Planning;

/// <summary>
/// The one file that ties the stages together (DESIGN.md, "Prune plan"): the blocks the prefill stage and the decode
/// stage skip (prefill ⊆ decode, so every block decode runs produced KV on the prefill node), the token-aware KV
/// policy, and the evidence the search recorded (calibration, scores). Written by `pdserve prune`, read by every
/// command through --plan.
/// </summary>
public sealed record PrunePlan
{
    public const string FormatName = "pdserve-prune-plan/1";

    [JsonPropertyName("format")] public string Format { get; init; } = FormatName;
    /// <summary>The <see cref="Loading.ModelFingerprint"/> of the weights the plan was searched on.</summary>
    [JsonPropertyName("model_fingerprint")] public required string ModelFingerprint { get; init; }
    [JsonPropertyName("num_blocks")] public required int NumBlocks { get; init; }
    [JsonPropertyName("prefill_skip")] public IReadOnlyList<int> PrefillSkip { get; init; } = [];
    [JsonPropertyName("decode_skip")] public IReadOnlyList<int> DecodeSkip { get; init; } = [];
    [JsonPropertyName("kv")] public KvSection Kv { get; init; } = new();
    /// <summary>Free-form evidence (calibration checksum, seed, scores, objective values); kept verbatim.</summary>
    [JsonPropertyName("calibration")] public JsonObject? Calibration { get; init; }
    [JsonPropertyName("scores")] public JsonObject? Scores { get; init; }
    /// <summary>Set by <c>pdserve prune --heal</c>: each stage's fine-tuned kept blocks, in files beside the plan.</summary>
    [JsonPropertyName("healed")] public HealedSection? Healed { get; init; }

    public sealed record HealedSection
    {
        [JsonPropertyName("prefill")] public required HealedStage Prefill { get; init; }
        [JsonPropertyName("decode")] public required HealedStage Decode { get; init; }
        /// <summary>How the stages were healed (data, minutes, steps, losses); kept verbatim.</summary>
        [JsonPropertyName("distillation")] public JsonObject? Distillation { get; init; }
    }

    /// <summary>A safetensors file of one stage's kept blocks, named relative to the plan file, with its SHA-256.</summary>
    public sealed record HealedStage
    {
        [JsonPropertyName("file")] public required string File { get; init; }
        [JsonPropertyName("sha256")] public required string Sha256 { get; init; }
    }

    public sealed record KvSection
    {
        [JsonPropertyName("selected_layers")] public IReadOnlyList<int> SelectedLayers { get; init; } = [];
        [JsonPropertyName("first")] public int First { get; init; }
        [JsonPropertyName("last")] public int Last { get; init; }
        [JsonPropertyName("wire_dtype")] public string WireDtype { get; init; } = "float32";
    }

    /// <summary>The file the plan was read from (healed weights are named relative to it); null for a plan made in memory.</summary>
    [JsonIgnore] public string? SourcePath { get; init; }

    // Derived views: not written to the plan file (the lists above are the file's truth).
    [JsonIgnore] public IReadOnlySet<int> PrefillSkipSet => PrefillSkip.ToHashSet();
    [JsonIgnore] public IReadOnlySet<int> DecodeSkipSet => DecodeSkip.ToHashSet();

    [JsonIgnore] public KvPolicy KvPolicy => new(Kv.SelectedLayers.Order().ToArray(), Kv.First, Kv.Last, ParseWireDtype(Kv.WireDtype));

    /// <summary>An unpruned plan for a model: nothing skipped, every position kept, float32 on the wire.</summary>
    public static PrunePlan Unpruned(string modelFingerprint, int numBlocks) =>
        new() { ModelFingerprint = modelFingerprint, NumBlocks = numBlocks };

    /// <summary>A short, stable identity of what the plan changes (skip sets and KV policy), for compatibility checks.</summary>
    public string Fingerprint()
    {
        string canonical = $"{ModelFingerprint}|{NumBlocks}|p:{string.Join(',', PrefillSkip.Order())}|d:{string.Join(',', DecodeSkip.Order())}" +
                           $"|kv:{string.Join(',', Kv.SelectedLayers.Order())}/{Kv.First}/{Kv.Last}/{ParseWireDtype(Kv.WireDtype)}" +
                           // Healed weights change both stages' numbers: nodes with other healed files must not pair.
                           (Healed is null ? "" : $"|healed:{Healed.Prefill.Sha256.ToLowerInvariant()}/{Healed.Decode.Sha256.ToLowerInvariant()}");
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    /// <summary>Throws <see cref="PrunePlanException"/> naming the first broken rule.</summary>
    public void Validate()
    {
        if (Format != FormatName) throw new PrunePlanException($"unknown plan format '{Format}' (expected '{FormatName}')");
        if (string.IsNullOrWhiteSpace(ModelFingerprint)) throw new PrunePlanException("model_fingerprint is empty");
        if (NumBlocks < 1) throw new PrunePlanException($"num_blocks must be >= 1, got {NumBlocks}");
        CheckBlocks("prefill_skip", PrefillSkip);
        CheckBlocks("decode_skip", DecodeSkip);
        CheckBlocks("kv.selected_layers", Kv.SelectedLayers);
        if (DecodeSkip.Count >= NumBlocks) throw new PrunePlanException($"decode_skip removes all {NumBlocks} blocks");
        var decode = DecodeSkipSet;
        foreach (int block in PrefillSkip)
        {
            if (!decode.Contains(block))
                throw new PrunePlanException($"prefill_skip must be a subset of decode_skip: block {block} is skipped by prefill but run by decode, which would need its KV");
        }
        foreach (int layer in Kv.SelectedLayers)
        {
            if (decode.Contains(layer))
                throw new PrunePlanException($"kv.selected_layers must be blocks the decode stage runs: block {layer} is in decode_skip");
        }
        if (Kv.First < 0 || Kv.Last < 0) throw new PrunePlanException($"kv.first and kv.last must be >= 0, got {Kv.First} and {Kv.Last}");
        if (Kv.SelectedLayers.Count > 0 && Kv.First + Kv.Last == 0)
            throw new PrunePlanException("kv.first + kv.last must be >= 1 when layers are selected");
        ParseWireDtype(Kv.WireDtype);
        if (Healed is not null)
        {
            foreach (var (stage, healed) in new[] { ("prefill", Healed.Prefill), ("decode", Healed.Decode) })
            {
                if (string.IsNullOrWhiteSpace(healed.File) || Path.IsPathRooted(healed.File) || healed.File.Contains("..", StringComparison.Ordinal))
                    throw new PrunePlanException($"healed.{stage}.file must be a file name beside the plan, got '{healed.File}'");
                if (healed.Sha256.Length != 64 || !healed.Sha256.All(Uri.IsHexDigit))
                    throw new PrunePlanException($"healed.{stage}.sha256 must be 64 hex digits");
            }
        }
    }

    /// <summary>
    /// The healed weights of the prefill (<paramref name="prefill"/>) or the decode stage's blocks beside the plan file,
    /// checked against the plan's SHA-256; null when the plan is not healed. Throws <see cref="PrunePlanException"/>
    /// when the file is missing or differs.
    /// </summary>
    public string? HealedFile(bool prefill)
    {
        if (Healed is null) return null;
        string planPath = SourcePath ?? throw new PrunePlanException("a healed plan must be read from its file, beside which its weights lie");
        HealedStage stage = prefill ? Healed.Prefill : Healed.Decode;
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(planPath))!, stage.File);
        if (!System.IO.File.Exists(path))
            throw new PrunePlanException($"the plan's healed {(prefill ? "prefill" : "decode")} weights '{stage.File}' are not beside it");
        string actual;
        using (FileStream stream = System.IO.File.OpenRead(path))
            actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        if (!string.Equals(actual, stage.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new PrunePlanException($"the healed {(prefill ? "prefill" : "decode")} weights '{stage.File}' are not the ones the plan names (sha256 {actual[..12]}…, expected {stage.Sha256[..12]}…)");
        return path;
    }

    /// <summary>Throws <see cref="PrunePlanException"/> when the plan was made for other weights or another depth.</summary>
    public void EnsureMatches(string modelFingerprint, int numBlocks)
    {
        if (NumBlocks != numBlocks)
            throw new PrunePlanException($"the plan is for a model with {NumBlocks} blocks, this model has {numBlocks}");
        if (!string.Equals(ModelFingerprint, modelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new PrunePlanException($"the plan was made for model {Short(ModelFingerprint)}, these weights are {Short(modelFingerprint)}");
    }

    private void CheckBlocks(string field, IReadOnlyList<int> blocks)
    {
        var seen = new HashSet<int>();
        foreach (int block in blocks)
        {
            if (block < 0 || block >= NumBlocks) throw new PrunePlanException($"{field}: block {block} is out of range 0..{NumBlocks - 1}");
            if (!seen.Add(block)) throw new PrunePlanException($"{field}: block {block} is listed twice");
        }
    }

    public static KvWireDtype ParseWireDtype(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => KvWireDtype.Float32,
        "bfloat16" or "bf16" => KvWireDtype.BFloat16,
        "int8" => KvWireDtype.Int8,
        _ => throw new PrunePlanException($"kv.wire_dtype '{name}' is not one of float32, bfloat16, int8"),
    };

    private static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads and validates a plan file.</summary>
    public static PrunePlan Load(string path)
    {
        if (!File.Exists(path)) throw new PrunePlanException($"plan file '{path}' does not exist");
        PrunePlan? plan;
        try
        {
            plan = JsonSerializer.Deserialize<PrunePlan>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException e)
        {
            throw new PrunePlanException($"plan file '{path}' is not a valid plan: {e.Message}");
        }
        if (plan is null) throw new PrunePlanException($"plan file '{path}' is empty");
        plan.Validate();
        return plan with { SourcePath = Path.GetFullPath(path) };
    }

    /// <summary>Validates, then writes through a temporary file and a rename, so an interrupted write never leaves half a plan.</summary>
    public void Save(string path)
    {
        Validate();
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = full + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, JsonOptions) + "\n");
        File.Move(temporary, full, overwrite: true);
    }
}
