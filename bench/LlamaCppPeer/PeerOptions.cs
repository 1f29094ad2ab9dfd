using System.Globalization;
using LlamaCppPeer.Conversion;
using LlamaCppPeer.LlamaCpp;
using LLama.Native;

namespace LlamaCppPeer;

/// <summary>The command line of the peer (see <see cref="Usage"/>).</summary>
public sealed record PeerOptions
{
    public const string Usage = """
        dotnet run --project bench/LlamaCppPeer -c Release -- (--model DIR | --shape NAME) [options]

        Converts the model to a GGUF, loads it in llama.cpp (LLamaSharp's CPU backend) and measures prefill and
        decode throughput the way `pdserve bench engine` measures PdServe; or, with --check-logits, compares
        llama.cpp's logits and greedy continuation with PdServe's fp32 prefill and decode.

          --model DIR            Hugging Face directory (config.json + model.safetensors, f32 or bf16)
          --shape NAME           a named shape with the random weights `pdserve bench engine --shape` uses (smollm2-135m)
          --dtype T              f32 | f16 | bf16 | q8_0: the GGUF's matrices (norms stay f32). Default f32
          --threads N            llama.cpp threads (and torch's for --check-logits). Default 2
          --prompt-tokens N      prefill prompt length; the check's prompt is capped to fit the context. Default 512
          --batch LIST           decode batch sizes, comma-separated. Default 1,4,16
          --context-tokens N     KV each decoding sequence holds before the timed steps. Default 128
          --steps N              decode steps per repetition. Default 16
          --repetitions N        timed repetitions after one warm-up; figures are their medians. Default 5
          --flash-attention X    on | off. Default off
          --kv-type T            f16 | f32 KV cache. Default f16 for timing (llama.cpp's default), f32 for --check-logits
          --json FILE            write the measurements as JSON
          --gguf FILE            keep the converted GGUF here (otherwise a temporary file, deleted at the end)
          --check-logits         compare with PdServe instead of timing
          --verbose              show llama.cpp's whole log
        """;

    public string? ModelDirectory { get; init; }
    public string? Shape { get; init; }
    public WeightDtype Dtype { get; init; } = WeightDtype.F32;
    public int Threads { get; init; } = 2;
    public int PromptTokens { get; init; } = 512;
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 4, 16];
    public int ContextTokens { get; init; } = 128;
    public int Steps { get; init; } = 16;
    public int Repetitions { get; init; } = 5;
    public bool FlashAttention { get; init; }
    public GGMLType? KvCacheType { get; init; }
    public string? JsonPath { get; init; }
    public string? GgufPath { get; init; }
    public bool CheckLogits { get; init; }
    public bool Verbose { get; init; }

    /// <summary>Tokens of the greedy continuation --check-logits compares.</summary>
    public const int CheckContinuationTokens = 16;

    public GGMLType EffectiveKvCacheType => KvCacheType ?? (CheckLogits ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16);

    /// <exception cref="ArgumentException">An unknown option, a missing or malformed value.</exception>
    public static PeerOptions Parse(IReadOnlyList<string> args)
    {
        var options = new PeerOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Positive() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
                ? n
                : throw new ArgumentException($"{name} takes a positive integer");
            options = name switch
            {
                "--model" => options with { ModelDirectory = Value() },
                "--shape" => options with { Shape = Value() },
                "--dtype" => options with { Dtype = WeightDtypes.Parse(Value()) },
                "--threads" => options with { Threads = Positive() },
                "--prompt-tokens" => options with { PromptTokens = Positive() },
                "--batch" => options with { BatchSizes = ParseBatchSizes(Value()) },
                "--context-tokens" => options with { ContextTokens = Positive() },
                "--steps" => options with { Steps = Positive() },
                "--repetitions" => options with { Repetitions = Positive() },
                "--flash-attention" => options with { FlashAttention = ParseOnOff(name, Value()) },
                "--kv-type" => options with { KvCacheType = LlamaCppSettings.ParseKvCacheType(Value()) },
                "--json" => options with { JsonPath = Value() },
                "--gguf" => options with { GgufPath = Value() },
                "--check-logits" => options with { CheckLogits = true },
                "--verbose" => options with { Verbose = true },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }
        if ((options.ModelDirectory is null) == (options.Shape is null))
            throw new ArgumentException("give exactly one of --model DIR and --shape NAME");
        if (options.ContextTokens > options.PromptTokens)
            throw new ArgumentException($"--context-tokens {options.ContextTokens} is taken from the prompt, so it cannot exceed --prompt-tokens {options.PromptTokens}");
        return options;
    }

    private static int[] ParseBatchSizes(string text)
    {
        int[] sizes = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
                ? n
                : throw new ArgumentException($"--batch takes positive integers, got '{s}'"))
            .ToArray();
        return sizes.Length > 0 ? sizes : throw new ArgumentException("--batch needs at least one size");
    }

    private static bool ParseOnOff(string name, string value) => value.ToLowerInvariant() switch
    {
        "on" => true,
        "off" => false,
        _ => throw new ArgumentException($"{name} takes on or off, got '{value}'"),
    };
}
