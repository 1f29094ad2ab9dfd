using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.Engine.Tokenization;

namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>
/// Runs <c>pdserve bench chaos</c>: starts a <see cref="LocalCluster"/>, measures its saturation throughput in a closed
/// loop, then offers a share of it as seeded Poisson arrivals while it SIGKILLs a node every so often and restarts it
/// on its port, cancels some streams mid-way and sends <see cref="PoisonRequests"/>; afterwards it waits for the KV
/// caches to drain, stops the cluster and judges the run (<see cref="ChaosVerdict"/>). Every node instance gets a
/// <see cref="NodeWarmUp"/> first, so its RSS baseline is taken after it has seen the run's largest shapes.
/// </summary>
public sealed class ChaosRunner(ChaosOptions options, string command, CliContext context)
{
    private static readonly TimeSpan EvictionWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RejoinWait = TimeSpan.FromSeconds(60);
    // Longer than a prefill node's KV lease (30 s): a hold whose decode node was killed mid-pull ends with the lease.
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(90);
    private const int PromptPool = 256;

    private readonly Stopwatch clock = new();
    private readonly ChaosTally tally = new();
    private readonly List<ChaosSample> samples = [];
    private readonly List<NodeKill> kills = [];
    private volatile string phase = "warm-up";

    private double Now => clock.Elapsed.TotalSeconds;

    public async Task<ChaosReport> RunAsync(CancellationToken cancellationToken)
    {
        string startedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var clusterOptions = new LocalClusterOptions
        {
            ModelDir = options.ModelDirectory, Prefill = options.Prefill, Decode = options.Decode, Port = options.Port,
            StartupTimeout = options.StartupTimeout,
        };
        var cluster = new LocalCluster(clusterOptions, "bench chaos", context.Stderr, context.Stderr);
        IReadOnlyList<int> started;
        ChaosMeasurement measured;
        try
        {
            await cluster.StartAsync(cancellationToken);
            measured = await MeasureAsync(cluster, cancellationToken);
        }
        finally
        {
            await cluster.DisposeAsync();
            started = cluster.StartedPids;
        }
        // Stop waited for every node it stopped and Kill for every node it killed; anything alive now is a leak.
        IReadOnlyList<int> left = [.. started.Where(ProcStatus.IsAlive)];
        return Report(measured, cluster.Model!.Id, startedAt, left);
    }

    private sealed record ChaosMeasurement(double SaturationRps, double SaturationTokensPerSecond, double OfferedRps, double LoadStart, double LoadEnd,
        IReadOnlyList<string> Killable, double? Retries, double? DrainedAfter, IReadOnlyList<NodeSample> AfterDrain);

    private async Task<ChaosMeasurement> MeasureAsync(LocalCluster cluster, CancellationToken cancellationToken)
    {
        clock.Start();
        using var http = new HttpClient(new System.Net.Http.SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        }) { Timeout = Timeout.InfiniteTimeSpan };
        using var probeHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var gateway = new Uri(cluster.Url.TrimEnd('/') + "/");
        var probe = new NodeLoadProbe(probeHttp);
        var pools = new PoolWatcher(probeHttp, gateway);
        var prompts = RandomPrompts.Create(TextTokenizer.Load(options.ModelDirectory), options.InputLength, options.OutputLength, 0, PromptPool, options.Seed);

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = SampleAsync(cluster, probe, stopSampling.Token);
        var progress = ProgressAsync(stopSampling.Token);
        try
        {
            var limits = cluster.GatewayLimits;
            var warmUp = new NodeWarmUp(cluster, cluster.Model!.ContextLength, limits.MaxN,
                prompts.Select(p => p.TokenIds!).MaxBy(ids => ids.Count)!);
            phase = "warm-up";
            foreach (var node in cluster.Nodes) await warmUp.RunAsync(node, cancellationToken);
            phase = "saturation";
            var (saturationRps, saturationTokens) = await SaturationAsync(http, gateway, cluster.Model!.Id, prompts, cancellationToken);
            double offered = options.Load * saturationRps;
            double? retriesBefore = await RetriesAsync(http, gateway, cancellationToken);

            phase = "load";
            double loadStart = Now, loadEnd = loadStart + options.Minutes * 60;
            var poison = new PoisonRequests(cluster.Model.Id, cluster.Model.ContextLength, limits.MaxN, limits.MaxTopLogprobs,
                prompts[0].TokenIds!, options.OutputLength);
            var killable = Killable(cluster);
            var call = new ChaosCall(http, gateway, options.RequestTimeout, () => Now);
            var requests = new ConcurrentBag<Task>();
            await Task.WhenAll(
                ArrivalsAsync(call, cluster.Model.Id, prompts, offered, loadEnd, requests, cancellationToken),
                PoisonAsync(call, poison, loadStart, loadEnd, requests, cancellationToken),
                KillsAsync(cluster, pools, warmUp, killable, loadStart, loadEnd, cancellationToken));
            await Task.WhenAll(requests);
            double endOfLoad = Now;
            double? retriesAfter = await RetriesAsync(http, gateway, cancellationToken);

            phase = "drain";
            var (drainedAfter, afterDrain) = await DrainAsync(cluster, probe, cancellationToken);
            return new ChaosMeasurement(saturationRps, saturationTokens, offered, loadStart, endOfLoad, killable,
                retriesBefore is { } b && retriesAfter is { } a ? a - b : null, drainedAfter, afterDrain);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await Task.WhenAll(sampling, progress);
        }
    }

    /// <summary>Closed loop at high concurrency through bench serve's own client: completed requests (and tokens) per second.</summary>
    private async Task<(double Rps, double TokensPerSecond)> SaturationAsync(HttpClient http, Uri gateway, string model,
        IReadOnlyList<BenchPrompt> prompts, CancellationToken cancellationToken)
    {
        var call = new CompletionCall(http, gateway, model, null, stream: true, ignoreEos: true);
        var deadline = TimeSpan.FromSeconds(options.SaturationSeconds);
        var watch = Stopwatch.StartNew();
        int next = -1, completed = 0;
        long tokens = 0;
        string? firstError = null;
        await Task.WhenAll(Enumerable.Range(0, options.SaturationConcurrency).Select(async _ =>
        {
            while (watch.Elapsed < deadline)
            {
                var outcome = await call.SendAsync(prompts[Interlocked.Increment(ref next) % prompts.Count], 0, cancellationToken);
                if (!outcome.Success)
                {
                    Interlocked.CompareExchange(ref firstError, outcome.Error, null);
                    continue;
                }
                Interlocked.Increment(ref completed);
                Interlocked.Add(ref tokens, outcome.OutputTokens);
            }
        }));
        double seconds = watch.Elapsed.TotalSeconds;
        if (completed == 0) throw new CliError($"bench chaos: no request completed while measuring saturation: {firstError}");
        return (completed / seconds, tokens / seconds);
    }

    /// <summary>Ordinary load: Poisson arrivals (bench serve's) at <paramref name="rate"/> until <paramref name="end"/>; a share is cancelled mid-way.</summary>
    private async Task ArrivalsAsync(ChaosCall call, string model, IReadOnlyList<BenchPrompt> prompts, double rate, double end,
        ConcurrentBag<Task> requests, CancellationToken cancellationToken)
    {
        double start = Now;
        // Enough arrivals for the whole window even when the draw runs long; the loop stops at the end.
        int count = (int)Math.Ceiling(rate * (end - start) * 1.5) + 16;
        var offsets = PoissonArrivals.Offsets(rate, count, options.Seed);
        var random = new Random(options.Seed + 1);
        for (int i = 0; i < offsets.Count; i++)
        {
            double at = start + offsets[i].TotalSeconds;
            if (at >= end) break;
            if (at > Now) await Task.Delay(TimeSpan.FromSeconds(at - Now), cancellationToken);
            var prompt = prompts[i % prompts.Count];
            int? cancelAfter = random.NextDouble() < options.CancelShare && prompt.MaxTokens >= 2 ? random.Next(1, prompt.MaxTokens) : null;
            var body = new Dictionary<string, object>
            {
                ["model"] = model,
                ["prompt"] = prompt.PromptField,
                ["max_tokens"] = prompt.MaxTokens,
                ["temperature"] = 0,
                ["ignore_eos"] = true,
                ["stream"] = true,
                ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
            };
            requests.Add(SendAsync(call, new ChaosRequest(body, null, cancelAfter), cancellationToken));
        }
    }

    private async Task PoisonAsync(ChaosCall call, PoisonRequests poison, double start, double end, ConcurrentBag<Task> requests,
        CancellationToken cancellationToken)
    {
        for (double at = start + options.PoisonEverySeconds / 2; at < end; at += options.PoisonEverySeconds)
        {
            if (at > Now) await Task.Delay(TimeSpan.FromSeconds(at - Now), cancellationToken);
            requests.Add(SendAsync(call, poison.Next(), cancellationToken));
        }
    }

    private async Task SendAsync(ChaosCall call, ChaosRequest request, CancellationToken cancellationToken)
    {
        tally.Started();
        tally.Ended(await call.SendAsync(request, cancellationToken));
    }

    /// <summary>Nodes of pools that keep a node while one is down: killing a pool's only node would fail every request.</summary>
    private static IReadOnlyList<string> Killable(LocalCluster cluster) =>
        [.. cluster.Nodes.GroupBy(n => n.Spec.Role).Where(g => g.Count() >= 2).SelectMany(g => g).Select(n => n.Spec.Name)];

    /// <summary>
    /// Every <see cref="ChaosOptions.KillEverySeconds"/>: SIGKILL a random killable node, wait until its pool shows it
    /// unavailable, restart it on its port, wait until the pool shows it available. One node is down at a time.
    /// </summary>
    private async Task KillsAsync(LocalCluster cluster, PoolWatcher pools, NodeWarmUp warmUp, IReadOnlyList<string> killable, double start, double end,
        CancellationToken cancellationToken)
    {
        if (killable.Count == 0) return;
        var random = new Random(options.Seed + 2);
        for (double at = start + options.KillEverySeconds; at < end;)
        {
            if (at > Now) await Task.Delay(TimeSpan.FromSeconds(at - Now), cancellationToken);
            string name = killable[random.Next(killable.Count)];
            var node = cluster.Node(name);
            int inFlight = tally.InFlight;
            double killedAt = Now;
            await Task.Run(() => cluster.Kill(name), cancellationToken);
            tally.Killed();
            double? evicted = await pools.WaitForAsync(name, available: false, EvictionWait, cancellationToken);
            double restartedAt = Now;
            var kill = new NodeKill
            {
                Node = name, Role = node.Spec.Role.ToString().ToLowerInvariant(), KilledPid = node.Pid, KilledAtSeconds = killedAt,
                InFlightAtKill = inFlight, EvictedAfterSeconds = evicted, RestartedAtSeconds = restartedAt,
            };
            try
            {
                var restarted = await cluster.RestartAsync(name, cancellationToken);
                double healthy = Now - restartedAt;
                // Beside the rejoin, not before it: the warm-up must not delay what the rejoin time measures.
                var warming = WarmUpRestartedAsync(warmUp, restarted, cancellationToken);
                double? rejoined = await pools.WaitForAsync(name, available: true, RejoinWait, cancellationToken) is not null ? Now - restartedAt : null;
                await warming;
                kill = kill with { RestartedPid = restarted.Pid, HealthyAfterSeconds = healthy, RejoinedAfterSeconds = rejoined };
            }
            catch (CliError e)
            {
                lock (kills) kills.Add(kill with { Error = e.Message });
                context.Stderr.WriteLine($"bench chaos: {name} did not come back ({e.Message}); no more kills");
                return;
            }
            lock (kills) kills.Add(kill);
            at = Math.Max(killedAt + options.KillEverySeconds, Now);
        }
    }

    /// <summary>A restarted instance's warm-up; one that fails is reported and leaves its RSS baseline as it is.</summary>
    private async Task WarmUpRestartedAsync(NodeWarmUp warmUp, NodeProcess node, CancellationToken cancellationToken)
    {
        try
        {
            await warmUp.RunAsync(node, cancellationToken);
        }
        catch (RpcException e)
        {
            context.Stderr.WriteLine($"bench chaos: warm-up of restarted {node.Spec.Name} failed ({e.StatusCode}: {e.Status.Detail})");
        }
    }

    private static async Task<double?> RetriesAsync(HttpClient http, Uri gateway, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(gateway, "metrics"), cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            // A counter never incremented may be absent from the exposition: that is zero.
            return PrometheusText.Sum(await response.Content.ReadAsStringAsync(cancellationToken), "pdserve_gateway_retries_total") ?? 0;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Waits until every node reports no KV in use and no request; how long that took (null: not within the wait) and the last readings.</summary>
    private async Task<(double?, IReadOnlyList<NodeSample>)> DrainAsync(LocalCluster cluster, NodeLoadProbe probe, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var readings = await ReadNodesAsync(cluster, probe, cancellationToken);
            if (readings.All(r => r is { KvUsage: 0, Running: 0, Waiting: 0 })) return (watch.Elapsed.TotalSeconds, readings);
            if (watch.Elapsed > DrainWait) return (null, readings);
            await Task.Delay(500, cancellationToken);
        }
    }

    private static async Task<IReadOnlyList<NodeSample>> ReadNodesAsync(LocalCluster cluster, NodeLoadProbe probe, CancellationToken cancellationToken) =>
        await Task.WhenAll(cluster.Nodes.Select(async node =>
        {
            var load = await probe.ReadAsync(node.Spec.Address, cancellationToken);
            return new NodeSample(node.Spec.Name, node.Pid, ProcStatus.RssMiB(node.Pid), load?.KvUsage, load?.Running, load?.Waiting);
        }));

    /// <summary>Once a second until stopped: every node's RSS and KV fill, requests in flight, output tokens completed.</summary>
    private async Task SampleAsync(LocalCluster cluster, NodeLoadProbe probe, CancellationToken stop)
    {
        long tokensBefore = 0;
        double before = Now;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var nodes = await ReadNodesAsync(cluster, probe, stop);
                double now = Now;
                long tokens = tally.OutputTokens;
                var sample = new ChaosSample(Math.Round(now, 3), phase, tally.InFlight, (tokens - tokensBefore) / (now - before), nodes);
                lock (samples) samples.Add(sample);
                (tokensBefore, before) = (tokens, now);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>A progress line on stderr every few seconds (a line, not a redrawn bar: node logs share stderr).</summary>
    private async Task ProgressAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"chaos {Now,6:0} s {phase}: {tally.Sent} sent, {tally.Completed} completed, {tally.Cancelled} cancelled, " +
                    $"{tally.FailedCount} failed, {tally.Lost} lost, {tally.InFlight} in flight; {tally.Kills} kills"));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private ChaosReport Report(ChaosMeasurement measured, string model, string startedAt, IReadOnlyList<int> left)
    {
        IReadOnlyList<NodeKill> kills;
        lock (this.kills) kills = [.. this.kills];
        IReadOnlyList<ChaosSample> samples;
        lock (this.samples) samples = [.. this.samples];
        var decodeKills = kills.Where(k => k.Role == "decode").Select(k => k.KilledAtSeconds).ToList();
        var outcomes = tally.Outcomes.Select(o => o with
        {
            Excused = o is { Kind: ChaosOutcomeKind.Failed, ErrorCode: "node_unreachable" }
                      && decodeKills.Any(t => o.StartedAtSeconds <= t && t <= o.EndedAtSeconds),
        }).OrderBy(o => o.StartedAtSeconds).ToList();
        var counts = ChaosJudgement.Count(outcomes);
        var rss = RssGrowth.Judge(samples);
        return new ChaosReport
        {
            Command = command,
            Machine = MachineDescription.Current(),
            StartedAt = startedAt,
            Model = model,
            Prefill = options.Prefill,
            Decode = options.Decode,
            Minutes = options.Minutes,
            Load = options.Load,
            KillEverySeconds = options.KillEverySeconds,
            PoisonEverySeconds = options.PoisonEverySeconds,
            CancelShare = options.CancelShare,
            InputLength = options.InputLength,
            OutputLength = options.OutputLength,
            Seed = options.Seed,
            KillableNodes = measured.Killable,
            SaturationSeconds = options.SaturationSeconds,
            SaturationConcurrency = options.SaturationConcurrency,
            SaturationRequestsPerSecond = measured.SaturationRps,
            SaturationOutputTokensPerSecond = measured.SaturationTokensPerSecond,
            OfferedRequestsPerSecond = measured.OfferedRps,
            LoadStartedAtSeconds = measured.LoadStart,
            LoadEndedAtSeconds = measured.LoadEnd,
            Requests = counts,
            RetriesBeforeFirstToken = measured.Retries,
            Kills = kills,
            KvDrainedAfterSeconds = measured.DrainedAfter,
            AfterDrain = measured.AfterDrain,
            ProcessesLeft = left,
            RssDefinition = RssGrowth.Definition,
            Rss = rss,
            Verdicts = ChaosJudgement.Verdicts(counts, kills, measured.Killable, measured.DrainedAfter, measured.AfterDrain, rss, left),
            Samples = samples,
        };
    }
}
