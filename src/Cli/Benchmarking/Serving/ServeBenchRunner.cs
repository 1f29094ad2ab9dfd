using System.Globalization;
using System.Net;
using System.Text.Json;
using PdServe.Engine.Tokenization;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Runs <c>pdserve bench serve</c>: builds the dataset (<see cref="BenchDataset"/>), sends the warm-up requests (not
/// counted), then for each rate sends that rate's prompts with Poisson arrivals (open loop; <c>--max-concurrency</c>
/// makes arrivals wait for a free slot) or starts that rate's conversations with Poisson arrivals, and summarises it,
/// reading the gateway's counters before and after so KV bytes are per request of this run.
/// </summary>
public static class ServeBenchRunner
{
    public static async Task<ServeBenchReport> RunAsync(ServeBenchOptions options, string command, IServeBenchObserver observer,
        CancellationToken cancellationToken)
    {
        using var http = CreateClient(options.RequestTimeout);
        Uri baseUrl = options.Url.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
        string model = options.Model ?? await FirstModelAsync(http, baseUrl, options.ApiKey, cancellationToken);
        TextTokenizer? localTokenizer = options.TokenizerDirectory is { } directory ? TextTokenizer.Load(directory) : null;
        BenchDataset dataset = await BenchDataset.LoadAsync(options, localTokenizer, http, baseUrl, model, cancellationToken);
        var call = new CompletionCall(http, baseUrl, model, options.ApiKey, options.Stream, options.IgnoreEos);
        ReplyTokenizer replyTokenizer = localTokenizer is not null
            ? ReplyTokenizer.Local(localTokenizer)
            : ReplyTokenizer.Server(http, baseUrl, model, options.ApiKey);
        string started = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        // Warm-up: outside any rate's counters; its failures do not stop the run (the measured requests will show them).
        foreach (var prompt in dataset.Warmup)
            await call.SendAsync(prompt, 0, cancellationToken);

        var results = new List<RateResult>();
        for (int index = 0; index < options.Rates.Count; index++)
        {
            double rate = options.Rates[index];
            string label = ServeBenchOptions.RateLabel(rate);
            observer.RateStarted(label, dataset.RequestsPerRate(index));
            GatewayCounters? before = await GatewayCounters.ReadAsync(http, baseUrl, options.ApiKey, cancellationToken);
            RateRun run = dataset.ConversationsPerRate is { } conversations
                ? await ConversationSender.SendAsync(call, replyTokenizer, conversations[index], rate, options.MaxConcurrency, options.Seed, label,
                    observer, cancellationToken)
                : await PromptSender.SendAsync(call, dataset.PromptsPerRate![index], rate, options.MaxConcurrency, options.Seed, label, observer,
                    cancellationToken);
            GatewayCounters? after = await GatewayCounters.ReadAsync(http, baseUrl, options.ApiKey, cancellationToken);
            var counters = before is not null && after is not null ? after.Minus(before) : null;
            var result = RateResult.From(label, run.Outcomes, run.Seconds, run.PeakConcurrency, options.Goodput, counters);
            observer.RateFinished(result);
            results.Add(result);
        }

        return new ServeBenchReport
        {
            Command = command,
            Machine = MachineDescription.Current(),
            StartedAt = started,
            Url = options.Url.ToString(),
            Model = model,
            Dataset = options.Dataset,
            InputLength = options.InputLength,
            OutputLength = options.OutputLength,
            RangeRatio = options.RangeRatio,
            NumPrompts = dataset.RequestsPerRate(0),
            Conversation = options.Dataset == BenchDataset.MultiturnDataset ? options.Conversation : null,
            SharedPrefix = options.Dataset == BenchDataset.SharedPrefixDataset ? options.SharedPrefix : null,
            MaxConcurrency = options.MaxConcurrency,
            Seed = options.Seed,
            IgnoreEos = options.IgnoreEos,
            Stream = options.Stream,
            Goodput = options.Goodput?.ToString(),
            WarmupRequests = options.WarmupRequests,
            Rates = results,
        };
    }

    private static async Task<string> FirstModelAsync(HttpClient http, Uri baseUrl, string? apiKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "v1/models"));
        if (apiKey is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliError($"bench serve: cannot reach {baseUrl}: {e.Message}");
        }
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new CliError($"bench serve: GET /v1/models answered {(int)response.StatusCode}: {body}");
            var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
            if (data.GetArrayLength() == 0) throw new CliError("bench serve: /v1/models lists no model; pass --model-name");
            return data[0].GetProperty("id").GetString()!;
        }
    }

    /// <summary>One connection pool for every request; no client-side limit on connections (the benchmark sets concurrency).</summary>
    private static HttpClient CreateClient(TimeSpan timeout) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = timeout };
}
