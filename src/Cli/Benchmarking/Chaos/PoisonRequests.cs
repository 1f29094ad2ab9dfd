namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Requests that are valid but sit at the edges of what the API allows — the kind that once made a node fail and the
/// gateway evict it (temperature 1e-40). Every one must be answered in full. They cycle in a fixed order.
/// </summary>
public sealed class PoisonRequests(string model, int contextLength, int maxN, int maxLogprobs, IReadOnlyList<int> prompt, int outputLength)
{
    private int next;

    /// <summary>The variants' names, in the order they are sent.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["temperature-1e-40", "top-p-1e-30", "top-k-1-seed-max", "logprobs-max", "n-max", "one-token-full-context", "all-at-once"];

    public ChaosRequest Next()
    {
        string name = Names[(Interlocked.Increment(ref next) - 1) % Names.Count];
        return new ChaosRequest(Body(name), name, CancelAfterChunks: null);
    }

    public Dictionary<string, object> Body(string name)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = model,
            ["prompt"] = prompt,
            ["max_tokens"] = outputLength,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        };
        // The largest u64 seed, as vLLM clients send it (the API's seed is a signed 64-bit integer).
        const long maxSeed = -1;
        // A single token and everything else the context holds: the longest sequence a request can make.
        int[] oneToken = [prompt[0]];
        int fullContext = contextLength - 1;
        switch (name)
        {
            case "temperature-1e-40":
                body["temperature"] = 1e-40;
                break;
            case "top-p-1e-30":
                body["temperature"] = 1.0;
                body["top_p"] = 1e-30;
                break;
            case "top-k-1-seed-max":
                body["temperature"] = 1.0;
                body["top_k"] = 1;
                body["seed"] = maxSeed;
                break;
            case "logprobs-max":
                body["temperature"] = 0.7;
                body["logprobs"] = maxLogprobs;
                break;
            case "n-max":
                body["temperature"] = 1.0;
                body["n"] = maxN;
                break;
            case "one-token-full-context":
                body["prompt"] = oneToken;
                body["max_tokens"] = fullContext;
                body["ignore_eos"] = true;
                break;
            case "all-at-once":
                body["prompt"] = oneToken;
                body["max_tokens"] = fullContext;
                body["temperature"] = 1e-40;
                body["top_p"] = 1e-30;
                body["top_k"] = 1;
                body["seed"] = maxSeed;
                body["logprobs"] = maxLogprobs;
                body["n"] = maxN;
                break;
            default:
                throw new ArgumentException($"no poison variant '{name}'", nameof(name));
        }
        return body;
    }
}
