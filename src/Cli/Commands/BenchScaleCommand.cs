using System.CommandLine;
using PdServe.Cli.Benchmarking.Scale;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench scale [--model DIR] [--gateway-config FILE] [--decode-sizes 1,3,1] [--prefill-sizes 1,2,1]
/// [--rate R] [--phase-seconds S] [--dns-refresh S] [--prestop S] … --out FILE.json [--markdown FILE.md]</c> (root): the
/// multi-host rehearsal of the Kubernetes deployment. Every node, the gateway and a dnsmasq in network namespaces on a
/// bridge; the pools scaled apart under steady load by adding and removing hosts and their DNS records, then a rolling
/// restart. Exit 1 when a request failed, a new node got no traffic, a removed node did not drain, or anything was left.
/// </summary>
public static class BenchScaleCommand
{
    public const string GatewayConfigPath = "configs/gateway.k8s.json";

    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var gatewayConfig = new Option<string>("--gateway-config")
        {
            Description = $"The gateway's configuration, pools as headless Service DNS names (default: the checkout's {GatewayConfigPath})",
            HelpName = "FILE",
            DefaultValueFactory = _ => CheckoutFile.Find(GatewayConfigPath) ?? GatewayConfigPath,
        }.Require(File.Exists, "an existing file");
        var decodeSizes = SizesOption("--decode-sizes", "1,3,1", "Decode pool sizes in turn, one node added or removed at a time");
        var prefillSizes = SizesOption("--prefill-sizes", "1,2,1", "Prefill pool sizes in turn, after the decode pool's");
        var noRolling = new Option<bool>("--no-rolling-restart") { Description = "Skip the rolling restart of every node at the end" };
        var rate = OptionChecks.Double("--rate", 4, "Offered load: Poisson arrivals, requests per second", "R").Require(r => r > 0, "> 0");
        var maxConcurrency = OptionChecks.Int("--max-concurrency", 64, "Most requests in flight (arrivals wait for a slot)", "C").Require(c => c >= 1, ">= 1");
        var inputLength = OptionChecks.Int("--input-len", 128, "Prompt tokens (random ids)").Require(n => n >= 1, "an integer >= 1");
        var outputLength = OptionChecks.Int("--output-len", 64, "Tokens to generate (ignore_eos)", "M").Require(n => n >= 1, "an integer >= 1");
        var phaseSeconds = OptionChecks.Double("--phase-seconds", 30, "How long each pool size is held once its change is complete", "S").Require(s => s > 0, "> 0");
        var dnsRefresh = OptionChecks.Double("--dns-refresh", 5, "The gateway's Gateway:DnsRefreshPeriod (its default and the manifests': 5)", "S")
            .Require(s => s >= 0.1, ">= 0.1");
        var preStop = OptionChecks.Double("--prestop", 5, "Seconds between removing a node's DNS record and its SIGTERM (the manifests' preStop: 5)", "S")
            .Require(s => s >= 0, ">= 0");
        var grace = OptionChecks.Double("--termination-grace", 40, "Seconds from a node's record removal to SIGKILL (terminationGracePeriodSeconds: 40)", "S")
            .Require(s => s >= 1, ">= 1");
        var seed = OptionChecks.Int("--seed", 0, "Seed of the prompts and arrivals", "S");
        var subnet = new Option<string>("--subnet")
        {
            Description = "The rehearsal's IPv4 /24 (bridge .1, DNS .2, gateway .3, nodes from .10)", HelpName = "A.B.C.0/24",
            DefaultValueFactory = _ => ScaleNetworkPlan.DefaultSubnet,
        }.Require(text => Parses(() => ScaleNetworkPlan.ParseSubnet(text)), "an IPv4 /24 such as 10.78.0.0/24");
        var port = OptionChecks.Int("--port", 8000, "The gateway's port on its host", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");
        var timeout = OptionChecks.Int("--request-timeout", 120, "Seconds before a request counts as failed", "S").Require(n => n >= 1, "an integer >= 1");
        var output = new Option<string>("--out") { Description = "Write the results (set-up, changes, windows, every request) as JSON", HelpName = "FILE.json", Required = true };
        var markdown = new Option<string>("--markdown") { Description = "Also write the tables as markdown (default: FILE.md beside --out)", HelpName = "FILE.md" };

        var command = new Command("scale",
            "Multi-host rehearsal (root): nodes, gateway and dnsmasq in network namespaces; scale decode and prefill apart and roll every node under load")
        {
            model, gatewayConfig, decodeSizes, prefillSizes, noRolling, rate, maxConcurrency, inputLength, outputLength, phaseSeconds, dnsRefresh,
            preStop, grace, seed, subnet, port, timeout, output, markdown,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            double preStopSeconds = parseResult.GetValue(preStop), graceSeconds = parseResult.GetValue(grace);
            if (graceSeconds <= preStopSeconds) throw new CliError("--termination-grace must be longer than --prestop (the drain runs after the preStop)");
            var options = new ScaleOptions
            {
                ModelDirectory = Path.GetFullPath(parseResult.GetRequiredValue(model)),
                GatewayConfig = Path.GetFullPath(parseResult.GetRequiredValue(gatewayConfig)),
                SubnetPrefix = ScaleNetworkPlan.ParseSubnet(parseResult.GetRequiredValue(subnet)),
                DecodeSizes = ScaleSchedule.ParseSizes(parseResult.GetRequiredValue(decodeSizes)),
                PrefillSizes = ScaleSchedule.ParseSizes(parseResult.GetRequiredValue(prefillSizes)),
                RollingRestart = !parseResult.GetValue(noRolling),
                Rate = parseResult.GetValue(rate),
                MaxConcurrency = parseResult.GetValue(maxConcurrency),
                InputLength = parseResult.GetValue(inputLength),
                OutputLength = parseResult.GetValue(outputLength),
                PhaseSeconds = parseResult.GetValue(phaseSeconds),
                DnsRefreshSeconds = parseResult.GetValue(dnsRefresh),
                PreStopSeconds = preStopSeconds,
                TerminationGraceSeconds = graceSeconds,
                Seed = parseResult.GetValue(seed),
                GatewayPort = parseResult.GetValue(port),
                RequestTimeout = TimeSpan.FromSeconds(parseResult.GetValue(timeout)),
            };
            string json = parseResult.GetRequiredValue(output);
            string md = parseResult.GetValue(markdown) ?? Path.ChangeExtension(json, ".md");
            string commandLine = ServeBenchReport.CommandOf(parseResult.Tokens.Select(t => t.Value));
            var report = await ScaleConsole.RunAsync(options, commandLine, json, md, context, cancellationToken);
            return report.Verdicts.All(v => v.Passed) ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static Option<string> SizesOption(string name, string defaultValue, string description) =>
        new Option<string>(name) { Description = description, HelpName = "N,N,…", DefaultValueFactory = _ => defaultValue }
            .Require(text => ScaleSchedule.TryParseSizes(text, out _), "comma-separated pool sizes from 1 to 16");

    private static bool Parses(Action parse)
    {
        try
        {
            parse();
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
