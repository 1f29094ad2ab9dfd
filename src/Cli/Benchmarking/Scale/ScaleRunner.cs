using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// Runs <c>pdserve bench scale</c>: builds the rehearsal's hosts (<see cref="ScaleCluster"/>), starts the pools at their
/// first sizes and the gateway, puts a steady load on it (<see cref="ScaleLoad"/>), then walks the decode pool and the
/// prefill pool through their sizes one node at a time — a new node on a new host is published once ready, a removed
/// one is withdrawn from DNS, waits out the preStop, gets SIGTERM and drains — holding each size for a window, and
/// finally replaces every node once (a rolling restart: the new one first, then the old one leaves). Every node's
/// counters are sampled throughout, so each change is timed from the DNS record to the node's first or last call.
/// </summary>
public sealed class ScaleRunner(ScaleOptions options, string command, CliContext context)
{
    public const string RollingRestartPhase = "rolling restart";
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(100);
    private const int PromptPool = 256;
    private static readonly TimeSpan PoolWatchLimit = TimeSpan.FromSeconds(60);

    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<ScaleEvent> events = [];
    private readonly List<PhaseWindow> windows = [];
    private volatile string stage = "starting";
    private ScaleLoad? load;
    private double loadStart;
    private double loadEnd;
    private double? retriesAtStart;
    private double? retriesAtEnd;

    private double Now => clock.Elapsed.TotalSeconds;

    private sealed record PhaseWindow(string Name, int Prefill, int Decode, double Start, double End, IReadOnlyDictionary<string, double> CallsPerNode,
        double? Retries);

    public async Task<ScaleReport> RunAsync(CancellationToken cancellationToken)
    {
        ScaleCluster.RequireRootAndTools();
        var services = RehearsalServices.FromGatewayConfig(options.GatewayConfig);
        // Fails fast (exit 2) on a directory without a tokenizer, before anything is made.
        var tokenizer = TextTokenizer.Load(options.ModelDirectory);
        string startedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var swept = ScaleLeftovers.SweepDeadRuns();
        foreach (string line in swept) context.Stderr.WriteLine($"bench scale: removed {line}, left by a run that died");
        string dnsVersion = SystemTool.TryRun(DnsServer.Executable, "--version").Output.Split('\n')[0].Trim();

        var cluster = new ScaleCluster(options, services, context.Stderr);
        string? aborted = null;
        IReadOnlyList<string> leftovers;
        using var stopSampling = new CancellationTokenSource();
        Task sampling = Task.CompletedTask, progress = Task.CompletedTask;
        try
        {
            sampling = SampleAsync(cluster, stopSampling.Token);
            progress = ProgressAsync(cluster, stopSampling.Token);
            await RehearseAsync(cluster, services, tokenizer, cancellationToken);
        }
        catch (Exception e) when (load is not null)
        {
            // Once the load runs, a failure is a finding: the report says what ran and why it stopped.
            aborted = e is OperationCanceledException ? "interrupted" : $"{e.GetType().Name}: {e.Message}";
            context.Stderr.WriteLine($"bench scale: stopped early: {aborted}");
            if (loadEnd == 0) loadEnd = Now;
        }
        finally
        {
            await stopSampling.CancelAsync();
            await Task.WhenAll(sampling, progress);
            context.Stderr.WriteLine("bench scale: removing every host, the bridge, dnsmasq and the processes");
            await cluster.DisposeAsync();
            leftovers = ScaleLeftovers.Of(cluster.Plan.RunId, cluster.StartedPids);
        }
        return Report(services, startedAt, dnsVersion, swept, leftovers, aborted);
    }

    private async Task RehearseAsync(ScaleCluster cluster, RehearsalServices services, TextTokenizer tokenizer, CancellationToken cancellationToken)
    {
        stage = "network and DNS";
        await cluster.StartNetworkAsync(cancellationToken);
        stage = "first nodes";
        int prefill = options.PrefillSizes[0], decode = options.DecodeSizes[0];
        var first = await Task.WhenAll(
            Enumerable.Repeat(NodeRole.Prefill, prefill).Concat(Enumerable.Repeat(NodeRole.Decode, decode))
                .Select(role => cluster.LaunchAsync(role, cancellationToken)));
        await cluster.PublishAsync(first, cancellationToken);
        stage = "gateway";
        await cluster.StartGatewayAsync(cancellationToken);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) })
        {
            Timeout = options.RequestTimeout,
        };
        string model = Path.GetFileName(options.ModelDirectory.TrimEnd('/'));
        var call = new CompletionCall(http, cluster.GatewayUrl, await ModelNameAsync(http, cluster, cancellationToken) ?? model, cluster.ApiKey,
            stream: true, ignoreEos: true);
        var prompts = RandomPrompts.Create(tokenizer, options.InputLength, options.OutputLength, 0, PromptPool, options.Seed);
        stage = "warm-up";
        for (int i = 0; i < options.WarmupRequests; i++)
        {
            var outcome = await call.SendAsync(prompts[i % prompts.Count], 0, cancellationToken);
            if (!outcome.Success) throw new CliError($"bench scale: a warm-up request failed: {outcome.Error}");
        }

        retriesAtStart = await GatewayRetriesAsync(http, cluster, cancellationToken);
        load = new ScaleLoad(call, prompts, options.Rate, options.MaxConcurrency, options.Seed, () => Now);
        using var stopSending = new CancellationTokenSource();
        loadStart = Now;
        var sending = load.RunAsync(stopSending.Token, cancellationToken);
        try
        {
            await HoldAsync(cluster, http, prefill, decode, cancellationToken);
            foreach (var step in ScaleSchedule.Steps(options.PrefillSizes, options.DecodeSizes))
            {
                stage = step.ToString();
                string reason = $"scale {step.Role.ToString().ToLowerInvariant()} to {(step.Role == NodeRole.Prefill ? step.Prefill : step.Decode)}";
                if (step.Add) await AddAsync(cluster, step.Role, reason, step.Prefill, step.Decode, cancellationToken);
                else await RemoveAsync(cluster, cluster.Serving(step.Role)[^1], reason, step.Prefill, step.Decode, cancellationToken);
                (prefill, decode) = (step.Prefill, step.Decode);
                await HoldAsync(cluster, http, prefill, decode, cancellationToken);
            }
            if (options.RollingRestart) await RollingRestartAsync(cluster, http, prefill, decode, cancellationToken);
        }
        finally
        {
            await stopSending.CancelAsync();
            loadEnd = Now;
            stage = "requests in flight finish";
            await sending;
        }
        retriesAtEnd = await GatewayRetriesAsync(http, cluster, cancellationToken);
    }

    /// <summary>Every node replaced in turn, prefill pool first: a new node joins, then the old one leaves (maxSurge 1, maxUnavailable 0).</summary>
    private async Task RollingRestartAsync(ScaleCluster cluster, HttpClient http, int prefill, int decode, CancellationToken cancellationToken)
    {
        double start = Now;
        double? retriesBefore = await GatewayRetriesAsync(http, cluster, cancellationToken);
        foreach (var old in cluster.Serving(NodeRole.Prefill).Concat(cluster.Serving(NodeRole.Decode)).ToList())
        {
            stage = $"{RollingRestartPhase}: {old.Name}";
            int surgedPrefill = prefill + (old.Role == NodeRole.Prefill ? 1 : 0), surgedDecode = decode + (old.Role == NodeRole.Decode ? 1 : 0);
            var replacement = await AddAsync(cluster, old.Role, $"{RollingRestartPhase}: replaces {old.Name}", surgedPrefill, surgedDecode, cancellationToken);
            await RemoveAsync(cluster, old, $"{RollingRestartPhase}: replaced by {replacement.Name}", prefill, decode, cancellationToken);
        }
        double? retriesAfter = await GatewayRetriesAsync(http, cluster, cancellationToken);
        lock (windows)
            windows.Add(new PhaseWindow(RollingRestartPhase, prefill, decode, start, Now, CallsPerNode(cluster, start, Now),
                retriesAfter - retriesBefore));
    }

    private async Task HoldAsync(ScaleCluster cluster, HttpClient http, int prefill, int decode, CancellationToken cancellationToken)
    {
        string name = $"prefill {prefill} + decode {decode}";
        stage = $"holding {name}";
        double start = Now;
        double? before = await GatewayRetriesAsync(http, cluster, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(options.PhaseSeconds), cancellationToken);
        double end = Now;
        double? after = await GatewayRetriesAsync(http, cluster, cancellationToken);
        lock (windows) windows.Add(new PhaseWindow(name, prefill, decode, start, end, CallsPerNode(cluster, start, end), after - before));
    }

    /// <summary>A new node: a new host, ready, its record published, then timed until the gateway lists it and it accepts its first call.</summary>
    private async Task<ScaleNode> AddAsync(ScaleCluster cluster, NodeRole role, string reason, int prefillAfter, int decodeAfter,
        CancellationToken cancellationToken)
    {
        double started = Now;
        var node = await cluster.LaunchAsync(role, cancellationToken);
        double ready = Now - started;
        await cluster.PublishAsync([node], cancellationToken);
        double recordAt = Now;
        double? inPool = null, firstCall = null;
        while (Now - recordAt < options.FirstCallTimeout.TotalSeconds && (inPool is null || firstCall is null))
        {
            if (inPool is null && await cluster.GatewayPoolAsync(Pool(role), cancellationToken) is { } listed && listed.Any(n => n.Address == node.Address))
                inPool = Now - recordAt;
            firstCall ??= node.Traffic.FirstCallAfter(recordAt) - recordAt;
            await Task.Delay(SampleInterval, cancellationToken);
        }
        Record(new ScaleEvent
        {
            Action = "add", Reason = reason, Role = Pool(role), Node = node.Name, Address = node.Address, Namespace = node.Host.Namespace,
            StartedAtSeconds = started, PrefillAfter = prefillAfter, DecodeAfter = decodeAfter,
            ReadyAfterSeconds = ready, RecordAddedAtSeconds = recordAt, InGatewayPoolAfterSeconds = inPool, FirstCallAfterSeconds = firstCall,
            Error = firstCall is null ? $"no call within {options.FirstCallTimeout.TotalSeconds:0} s of its record" : null,
        });
        return node;
    }

    /// <summary>A pod's termination: record withdrawn, the preStop wait, SIGTERM, the drain, the exit; timed until its last call and until the gateway drops it.</summary>
    private async Task RemoveAsync(ScaleCluster cluster, ScaleNode node, string reason, int prefillAfter, int decodeAfter, CancellationToken cancellationToken)
    {
        double started = Now;
        await cluster.WithdrawAsync(node, cancellationToken);
        double removedAt = Now;
        using var watchDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var outOfPool = LeavesPoolAsync(cluster, node, removedAt, watchDone.Token);
        await Task.Delay(TimeSpan.FromSeconds(options.PreStopSeconds), cancellationToken);
        double sigtermAt = Now;
        var grace = TimeSpan.FromSeconds(Math.Max(1, options.TerminationGraceSeconds - options.PreStopSeconds));
        var (exited, code) = await cluster.TerminateAsync(node, grace);
        double? leftPool = await outOfPool;
        double? lastCall = node.Traffic.LastCallAfter(removedAt);
        Record(new ScaleEvent
        {
            Action = "remove", Reason = reason, Role = Pool(node.Role), Node = node.Name, Address = node.Address, Namespace = node.Host.Namespace,
            StartedAtSeconds = started, PrefillAfter = prefillAfter, DecodeAfter = decodeAfter,
            RecordRemovedAtSeconds = removedAt, OutOfGatewayPoolAfterSeconds = leftPool, LastCallAfterSeconds = lastCall is { } last ? last - removedAt : 0,
            SigtermAtSeconds = sigtermAt, ExitedAfterSeconds = exited, ExitCode = code,
            Error = code != 0 ? $"exit code {code} after {exited:0.0} s (killed after the grace period, or failed to drain)" : null,
        });
    }

    /// <summary>Seconds from <paramref name="since"/> until the gateway no longer lists the node; null if not within the watch limit.</summary>
    private async Task<double?> LeavesPoolAsync(ScaleCluster cluster, ScaleNode node, double since, CancellationToken cancellationToken)
    {
        while (Now - since < PoolWatchLimit.TotalSeconds)
        {
            if (await cluster.GatewayPoolAsync(Pool(node.Role), cancellationToken) is { } listed && listed.All(n => n.Address != node.Address))
                return Now - since;
            await Task.Delay(SampleInterval, cancellationToken);
        }
        return null;
    }

    private void Record(ScaleEvent change)
    {
        lock (events) events.Add(change);
        context.Stderr.WriteLine(change.Action == "add"
            ? string.Create(CultureInfo.InvariantCulture,
                $"bench scale: {change.Node} ({change.Address}) added: ready after {change.ReadyAfterSeconds:0.0} s, in the gateway's pool {Seconds(change.InGatewayPoolAfterSeconds)} and first call {Seconds(change.FirstCallAfterSeconds)} after its DNS record")
            : string.Create(CultureInfo.InvariantCulture,
                $"bench scale: {change.Node} ({change.Address}) removed: out of the gateway's pool {Seconds(change.OutOfGatewayPoolAfterSeconds)} and last call {Seconds(change.LastCallAfterSeconds)} after its DNS record went, exited {change.ExitedAfterSeconds:0.0} s after SIGTERM (code {change.ExitCode})"));
    }

    private static string Seconds(double? value) => value is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.00} s") : "never";

    private static string Pool(NodeRole role) => role.ToString().ToLowerInvariant();

    private static IReadOnlyDictionary<string, double> CallsPerNode(ScaleCluster cluster, double start, double end) =>
        cluster.Running.ToDictionary(n => n.Name, n => n.Traffic.CompletedBetween(start, end));

    /// <summary>The served model's name from the gateway's <c>/v1/models</c> (what its clients request); null when it does not say.</summary>
    private static async Task<string?> ModelNameAsync(HttpClient http, ScaleCluster cluster, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.GatewayUrl, "v1/models"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.ApiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode) return null;
        using var models = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).FirstOrDefault();
    }

    private static async Task<double?> GatewayRetriesAsync(HttpClient http, ScaleCluster cluster, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.GatewayUrl, "metrics"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.ApiKey);
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            // A counter never incremented may be absent from the exposition: that is zero.
            return PrometheusText.Sum(await response.Content.ReadAsStringAsync(cancellationToken), "pdserve_gateway_retries_total") ?? 0;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Every node's counters every <see cref="SampleInterval"/>, draining nodes included, until stopped.</summary>
    private async Task SampleAsync(ScaleCluster cluster, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var probe = new NodeCounterProbe(http);
        using var timer = new PeriodicTimer(SampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                await Task.WhenAll(cluster.Running.Select(async node =>
                {
                    if (await probe.ReadAsync(node.Address, stop) is { } counters) node.Traffic.Add(Now, counters);
                }));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>A progress line on stderr every 5 s (a line, not a redrawn bar: node logs share stderr).</summary>
    private async Task ProgressAsync(ScaleCluster cluster, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                string pools = $"prefill {cluster.Serving(NodeRole.Prefill).Count} + decode {cluster.Serving(NodeRole.Decode).Count}";
                string requests = load is { } l ? $"; {l.Sent} sent, {l.Completed} completed, {l.Failed} failed, {l.InFlight} in flight" : "";
                context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scale {Now,6:0} s {stage}: {pools}{requests}"));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private ScaleReport Report(RehearsalServices services, string startedAt, string dnsVersion, IReadOnlyList<string> swept, IReadOnlyList<string> leftovers,
        string? aborted)
    {
        var requests = load?.Ended ?? [];
        IReadOnlyList<ScaleEvent> changes;
        lock (events) changes = [.. events];
        IReadOnlyList<ScalePhase> phases;
        lock (windows)
            phases = [.. windows.Select(w => ScalePhase.Of(w.Name, w.Prefill, w.Decode, w.Start, w.End, requests, w.CallsPerNode, w.Retries))];
        int failed = requests.Count(r => !r.Success);
        return new ScaleReport
        {
            Command = command,
            Machine = MachineDescription.Current(),
            StartedAt = startedAt,
            Model = options.ModelDirectory,
            GatewayConfig = options.GatewayConfig,
            PrefillService = services.Prefill.Url,
            DecodeService = services.Decode.Url,
            Subnet = options.SubnetPrefix + ".0/24",
            DnsServer = dnsVersion,
            DnsRefreshSeconds = options.DnsRefreshSeconds,
            PreStopSeconds = options.PreStopSeconds,
            TerminationGraceSeconds = options.TerminationGraceSeconds,
            SampleIntervalSeconds = SampleInterval.TotalSeconds,
            Rate = options.Rate,
            MaxConcurrency = options.MaxConcurrency,
            InputLength = options.InputLength,
            OutputLength = options.OutputLength,
            PhaseSeconds = options.PhaseSeconds,
            Seed = options.Seed,
            PrefillSizes = options.PrefillSizes,
            DecodeSizes = options.DecodeSizes,
            RollingRestart = options.RollingRestart,
            LoadStartedAtSeconds = loadStart,
            LoadEndedAtSeconds = loadEnd,
            Sent = requests.Count,
            Completed = requests.Count - failed,
            Failed = failed,
            Failures = [.. requests.Where(r => !r.Success).GroupBy(r => r.Error ?? "unknown").Select(g => new FailureCount(g.Key, g.Count()))
                .OrderByDescending(f => f.Count)],
            GatewayRetries = retriesAtEnd - retriesAtStart,
            Events = changes,
            Phases = phases,
            PoolSizes = PoolSizeThroughput.Of(phases, requests),
            Leftovers = leftovers,
            SweptBeforeStart = swept,
            Verdicts = ScaleJudgement.Verdicts(requests, changes, leftovers, aborted, options.TerminationGraceSeconds),
            Aborted = aborted,
            Requests = requests,
        };
    }
}
