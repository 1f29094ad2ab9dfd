using System.Globalization;
using LlamaCppPeer;
using LlamaCppPeer.Conversion;
using LlamaCppPeer.LlamaCpp;
using LlamaCppPeer.Measurement;
using PdServe.Engine.Model;
using TorchSharp;

PeerOptions options;
try
{
    options = PeerOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{PeerOptions.Usage}");
    return 2;
}

LlamaCppNative.ConfigureLog(options.Verbose);
PeerModelSource source = options.ModelDirectory is { } directory ? PeerModelSource.FromDirectory(directory) : PeerModelSource.FromShape(options.Shape!);
string ggufPath = options.GgufPath ?? Path.Combine(Path.GetTempPath(), $"pdserve-llamacpp-peer-{Guid.NewGuid():N}.gguf");
try
{
    var started = DateTime.UtcNow;
    GgufConversion gguf = LlamaGgufConverter.Convert(source, options.Dtype, ggufPath);
    Console.WriteLine($"GGUF: {gguf.Path}, {gguf.Bytes / 1e6:F1} MB, {gguf.TypeSummary} ({(DateTime.UtcNow - started).TotalSeconds:F1} s)");
    Console.WriteLine($"llama.cpp (LLamaSharp {LlamaCppNative.LlamaSharpVersion()}): {LlamaCppNative.SystemInfo()}");
    Console.WriteLine($"native library: {LlamaCppNative.LoadedLibraryPath() ?? "(not found in /proc/self/maps)"}");
    return options.CheckLogits ? CheckLogits(options, source, gguf) : Measure(options, source, gguf);
}
finally
{
    if (options.GgufPath is null) File.Delete(ggufPath);
}

static int CheckLogits(PeerOptions options, PeerModelSource source, GgufConversion gguf)
{
    const int continuation = PeerOptions.CheckContinuationTokens;
    int[] prompt = CheckPrompt(source, Math.Min(options.PromptTokens, source.Config.MaxPositionEmbeddings - continuation));
    var settings = new LlamaCppSettings(options.Threads, prompt.Length + continuation, Sequences: 1, BatchTokens: prompt.Length,
        options.FlashAttention, options.EffectiveKvCacheType);
    torch.set_num_threads(options.Threads);
    using CausalLm pdserve = source.LoadInPdServe(new ModelLoadOptions
    {
        PrefillDtype = torch.ScalarType.Float32,
        DecodeDtype = torch.ScalarType.Float32,
    });
    using LlamaCppSession llama = LlamaCppSession.Load(gguf.Path, settings);
    LogitsCheckResult result = LogitsCheck.Run(llama, pdserve, prompt, continuation);

    string F(float value) => value.ToString("G3", CultureInfo.InvariantCulture);
    float tolerance = LogitsCheckResult.RelativeTolerance * Math.Max(1f, result.MaxAbsLogit);
    Console.WriteLine($"check-logits: {source.Name}, GGUF {options.Dtype.Name()} against PdServe fp32, {result.PromptTokens}-token prompt, "
                      + $"KV cache {LlamaCppSettings.KvCacheTypeName(settings.KvCacheType)}, flash attention {(options.FlashAttention ? "on" : "off")}");
    Console.WriteLine($"  last prompt position: max |logit difference| {F(result.PrefillMaxAbsDifference)} (largest |logit| {F(result.MaxAbsLogit)})");
    Console.WriteLine($"  prompt + {result.ComparedSteps - 1} greedy steps on the same tokens: max |logit difference| {F(result.MaxAbsDifference)} "
                      + $"(tolerance {F(tolerance)})");
    Console.WriteLine($"  greedy continuation of {continuation} tokens: {(result.GreedyEqual ? "equal" : "DIFFERENT")}");
    Console.WriteLine($"    PdServe:   {string.Join(' ', result.PdServeGreedy)}");
    Console.WriteLine($"    llama.cpp: {string.Join(' ', result.LlamaCppGreedy)}");
    if (options.Dtype != WeightDtype.F32)
    {
        Console.WriteLine("  (informational: the tolerance holds only for an f32 GGUF; a narrower dtype rounds the weights)");
        return 0;
    }
    bool passed = result.GreedyEqual && result.WithinTolerance;
    Console.WriteLine(passed ? "PASS" : "FAIL");
    return passed ? 0 : 1;
}

// The check's prompt: BOS (when the model has one) and then seeded random ids, so it is the same on every run.
static int[] CheckPrompt(PeerModelSource source, int length)
{
    var random = new Random(1);
    int vocab = source.Config.VocabSize;
    int[] prompt = Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray();
    if (source.Config.BosTokenId is { } bos && bos < vocab) prompt[0] = bos;
    return prompt;
}

static int Measure(PeerOptions options, PeerModelSource source, GgufConversion gguf)
{
    int maxBatch = options.BatchSizes.Max();
    var settings = new LlamaCppSettings(options.Threads,
        PeerThroughput.TokensPerSequence(options.PromptTokens, options.ContextTokens, options.Steps, options.Repetitions),
        Sequences: maxBatch, BatchTokens: Math.Max(options.PromptTokens, maxBatch), options.FlashAttention, options.EffectiveKvCacheType);
    using LlamaCppSession llama = LlamaCppSession.Load(gguf.Path, settings);
    PeerThroughputResult measured = PeerThroughput.Run(llama, options.PromptTokens, options.BatchSizes, options.ContextTokens,
        options.Steps, options.Repetitions);

    var report = new PeerReport(
        Engine: "llama.cpp",
        LlamaSharpVersion: LlamaCppNative.LlamaSharpVersion(),
        NativeLibrary: LlamaCppNative.LoadedLibraryPath(),
        SystemInfo: LlamaCppNative.SystemInfo(),
        TimestampUtc: DateTime.UtcNow,
        Machine: MachineDescription.Current(),
        Model: source.Name,
        Dtype: options.Dtype.Name(),
        GgufTensorTypes: gguf.TypeSummary,
        GgufBytes: gguf.Bytes,
        Threads: options.Threads,
        FlashAttention: options.FlashAttention,
        KvCacheType: LlamaCppSettings.KvCacheTypeName(settings.KvCacheType),
        Measured: measured);

    string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);
    Console.WriteLine($"llama.cpp peer: {source.Name}, {options.Dtype.Name()}, {options.Threads} threads, flash attention "
                      + $"{(options.FlashAttention ? "on" : "off")}, KV cache {report.KvCacheType}; medians of {options.Repetitions} repetitions");
    Console.WriteLine($"  machine: {report.Machine}");
    Console.WriteLine($"  prefill, {measured.PrefillTokens}-token prompt: {F(measured.PrefillTokensPerSecond, "F0")} tok/s");
    foreach (PeerDecodeThroughput d in measured.Decode)
        Console.WriteLine($"  decode b{d.BatchSize} ({d.ContextTokens}-token context, {options.Steps} steps): "
                          + $"{F(d.TokensPerSecond)} tok/s ({F(d.MillisecondsPerStep, "F2")} ms/step)");
    if (options.JsonPath is { } json)
    {
        report.WriteTo(json);
        Console.WriteLine($"  JSON: {json}");
    }
    return 0;
}
