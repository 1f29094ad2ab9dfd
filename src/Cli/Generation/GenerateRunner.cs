using System.Text.Json;
using PdServe.Cli.Terminal;
using PdServe.Engine;
using PdServe.Engine.Generation;
using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Generation;

/// <summary>Runs <c>pdserve generate</c>: one prompt through the engine, streamed to stdout.</summary>
public static class GenerateRunner
{
    public static int Run(GenerateOptions options, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return Generate(options, context);
        }
        catch (ArgumentException e)
        {
            // The engine refuses invalid input (a skip set out of range, a prompt longer than the context) this way.
            throw new CliError($"generate: {e.Message}", e);
        }
    }

    private static int Generate(GenerateOptions options, CliContext context)
    {
        var loadOptions = new ModelLoadOptions
        {
            SkippedBlocks = options.Plan?.DecodeSkipSet ?? options.SkipBlocks.ToHashSet(),
            PrefillDtype = options.PrefillDtype,
            DecodeDtype = options.DecodeDtype,
            TwoThreadDecode = options.DecodeKernel == PdServe.Engine.Generation.DecodeKernel.Torch ? null : false,
        };
        // Unified mode runs the decode stage, healed weights included.
        string? healed = options.Plan?.HealedFile(prefill: false);
        using LoadedModel loaded = LoadingProgress.Run(context, "loading model", progress =>
            LoadedModel.Load(options.ModelDir, loadOptions with { Progress = progress }, healed));

        var sampling = new SamplingParams
        {
            Temperature = (float)options.Temperature,
            TopP = (float)options.TopP,
            TopK = options.TopK,
            Seed = options.Seed is { } seed ? unchecked((ulong)seed) : null,
            MaxTokens = options.MaxTokens,
        };
        IReadOnlyList<int> prompt = loaded.EncodePrompt(options.Prompt);
        using var engine = new InferenceEngine(loaded.Model, loaded.EosTokenIds, new EngineOptions
        {
            MaxBatchSize = 1,
            TorchThreads = options.Threads,
            DecodeKernel = options.DecodeKernel,
            FastWeights = options.FastWeights,
        });

        var generated = new List<int>();
        StreamingDetokenizer detokenizer = loaded.Tokenizer.CreateStreamingDetokenizer();
        foreach (GeneratedToken token in engine.Submit(new GenerationRequest(prompt, sampling)).ReadAllAsync().ToBlockingEnumerable())
        {
            generated.Add(token.Token.TokenId);
            if (options.Json) continue;
            context.Stdout.Write(detokenizer.Push(token.Token.TokenId));
            context.Stdout.Flush();
        }

        if (options.Json)
        {
            context.Stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt_token_ids"] = prompt,
                ["token_ids"] = generated,
                ["text"] = loaded.Tokenizer.Decode(generated),
            }));
        }
        else
        {
            context.Stdout.WriteLine(detokenizer.Flush());
        }
        return ExitCodes.Ok;
    }
}
