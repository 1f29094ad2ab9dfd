using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Ordinary token ids of whatever model a server runs, asked of the server itself: its <c>/tokenize</c> (vLLM's
/// shape, which PdServe's gateway serves too) tokenizes a fixed English text without special tokens, and the distinct
/// ids become the pool the random dataset draws from. So <c>bench serve</c> needs no local copy of the server's
/// tokenizer and never sends an id outside the served vocabulary.
/// </summary>
public static class ServerTokenPool
{
    /// <summary>Plain English of many word shapes (written for this purpose); its tokens are ordinary text tokens in any BPE.</summary>
    private const string ProbeText =
        "A serving system takes prompts from many clients at once, computes what each one needs, and streams the answers back. " +
        "Some requests are short questions; others carry long documents, tables of numbers like 3.14, 2048 and 1999, or code " +
        "such as if (x > 0) { return y; }. Operators watch queues, memory, latency and throughput, and they scale machines up " +
        "or down when the weather of traffic changes. Good software keeps working when a node fails: it retries, reports " +
        "honestly, and never loses a request without saying why. Every morning the team reads the figures, compares them with " +
        "yesterday's, and asks which change made the difference. Quick brown foxes jump over lazy dogs; rivers run to the sea; " +
        "children learn to count, to read, and to write their names. Which of these sentences would you keep, and why?";

    public static async Task<int[]> OrdinaryTokenIdsAsync(HttpClient http, Uri baseUrl, string model, string? apiKey,
        CancellationToken cancellationToken)
    {
        int[] ids = (await TokenizeEndpoint.EncodeAsync(http, baseUrl, model, apiKey, ProbeText, cancellationToken)).Distinct().Order().ToArray();
        return ids.Length > 0 ? ids : throw new CliError("the server's /tokenize returned no tokens for the probe text");
    }
}
