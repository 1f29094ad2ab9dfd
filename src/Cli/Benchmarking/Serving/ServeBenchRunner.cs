using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using PdServe.Engine.Tokenization;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// Runs <c>pdserve bench serve</c>: builds the dataset, sends the warm-up requests (not counted), then for each rate
/// sends the whole dataset with Poisson arrivals (open loop; <c>--max-concurrency</c> makes arrivals wait for a free
/// slot) and summarises it, reading the gateway's counters before and after so KV bytes are per request of this run.
/// </summary>
public static class ServeBenchRunner
{
    public static async Task<ServeBenchReport> RunAsync(ServeBenchOptions options, string command, IServeBenchObserver observer,
        CancellationToken cancellationToken)
    {
        using var http = CreateClient(options.RequestTimeout);
        Uri baseUrl = options.Url.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
        string model = options.Model ?? await FirstModelAsync(http, baseUrl, options.ApiKey, cancellationToken);
        IReadOnlyList<BenchPrompt> prompts = await DatasetAsync(options, http, baseUrl, model, cancellationToken);
        var call = new CompletionCall(http, baseUrl, model, options.ApiKey, options.Stream, options.IgnoreEos);
        string started = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        // Warm-up: outside any rate's counters; its failures do not stop the run (the measured requests will show them).
        for (int i = 0; i < options.WarmupRequests; i++)
            await call.SendAsync(prompts[i % prompts.Count], 0, cancellationToken);

        var results = new List<RateResult>();
        foreach (double rate in options.Rates)
        {
            string label = ServeBenchOptions.RateLabel(rate);
            observer.RateStarted(label, prompts.Count);
            GatewayCounters? before = await GatewayCounters.ReadAsync(http, baseUrl, options.ApiKey, cancellationToken);
            var (outcomes, seconds, peak) = await SendAllAsync(call, prompts, rate, options, label, observer, cancellationToken);
            GatewayCounters? after = await GatewayCounters.ReadAsync(http, baseUrl, options.ApiKey, cancellationToken);
            var counters = before is not null && after is not null ? after.Minus(before) : null;
            var result = RateResult.From(label, outcomes, seconds, peak, options.Goodput, counters);
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
            NumPrompts = options.NumPrompts,
            MaxConcurrency = options.MaxConcurrency,
            Seed = options.Seed,
            IgnoreEos = options.IgnoreEos,
            Stream = options.Stream,
            Goodput = options.Goodput?.ToString(),
            WarmupRequests = options.WarmupRequests,
            Rates = results,
        };
    }

    private static async Task<IReadOnlyList<BenchPrompt>> DatasetAsync(ServeBenchOptions options, HttpClient http, Uri baseUrl, string model,
        CancellationToken cancellationToken)
    {
        if (options.Dataset == "random")
        {
            IReadOnlyList<int> ordinary = options.TokenizerDirectory is { } directory
                ? RandomPrompts.OrdinaryIds(TextTokenizer.Load(directory))
                : await ServerTokenPool.OrdinaryTokenIdsAsync(http, baseUrl, model, options.ApiKey, cancellationToken);
            return RandomPrompts.Create(ordinary, options.InputLength, options.OutputLength, options.RangeRatio, options.NumPrompts, options.Seed);
        }
        if (options.Dataset.StartsWith("jsonl:", StringComparison.Ordinal))
            return JsonlPrompts.Load(options.Dataset["jsonl:".Length..], options.OutputLength, options.NumPrompts);
        throw new CliError($"--dataset must be random or jsonl:FILE, got '{options.Dataset}'");
    }

    private static async Task<(List<RequestOutcome> Outcomes, double Seconds, int Peak)> SendAllAsync(CompletionCall call,
        IReadOnlyList<BenchPrompt> prompts, double rate, ServeBenchOptions options, string label, IServeBenchObserver observer,
        CancellationToken cancellationToken)
    {
        // The same arrival pattern for every rate's seed, scaled by the rate.
        IReadOnlyList<TimeSpan> offsets = PoissonArrivals.Offsets(rate, prompts.Count, options.Seed);
        using var slots = options.MaxConcurrency is { } max ? new SemaphoreSlim(max) : null;
        var outcomes = new RequestOutcome[prompts.Count];
        var tasks = new List<Task>(prompts.Count);
        int inFlight = 0, peak = 0;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < prompts.Count; i++)
        {
            TimeSpan wait = offsets[i] - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            if (slots is not null) await slots.WaitAsync(cancellationToken);
            int index = i;
            tasks.Add(Task.Run(async () =>
            {
                int now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref peak, now);
                try
                {
                    var outcome = await call.SendAsync(prompts[index], Stopwatch.GetElapsedTime(start).TotalSeconds, cancellationToken);
                    outcomes[index] = outcome;
                    observer.RequestFinished(label, outcome);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                    slots?.Release();
                }
            }, cancellationToken));
        }
        await Task.WhenAll(tasks);
        return (outcomes.ToList(), Stopwatch.GetElapsedTime(start).TotalSeconds, peak);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
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
