using System.CommandLine;
using PdServe.Cli.Cluster;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve up [--model DIR] [--plan FILE] [--prefill N] [--decode M] [--port 8000] [--link-mbit R]</c>: a local
/// cluster — N prefill and M decode node processes and the gateway — until Ctrl-C or SIGTERM; with <c>--link-mbit</c> the
/// prefill nodes sit behind a rate-limited veth, so KV transfers cross a slow link as between machines.
/// </summary>
public static class UpCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var plan = new Option<string>("--plan") { Description = "Prune plan JSON passed to every node", HelpName = "FILE" };
        plan.Validators.Add(result =>
        {
            string? path = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (path is not null && !File.Exists(path)) result.AddError($"--plan: file '{path}' does not exist");
        });
        var prefill = OptionChecks.Int("--prefill", 1, "Prefill nodes (0: decode nodes prefill themselves)")
            .Require(n => n is >= 0 and <= 16, "between 0 and 16");
        var decode = OptionChecks.Int("--decode", 1, "Decode nodes").Require(n => n is >= 1 and <= 16, "between 1 and 16");
        var port = OptionChecks.Int("--port", 8000, "Gateway port on 127.0.0.1", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");
        var startupTimeout = OptionChecks.Int("--startup-timeout", 300, "Seconds a node may take to become healthy", "S")
            .Require(s => s >= 1, "an integer >= 1");
        // 0 stands for "not given": the check only sees explicit values.
        var linkMbit = OptionChecks.Int("--link-mbit", 0,
                "Run the prefill nodes in a network namespace behind a veth shaped to R Mbit/s with tbf (root, ip, tc)", "R")
            .Require(n => n >= 1, "an integer >= 1");
        var trace = new Option<bool>("--trace")
        {
            Description = "Print each request's spans across the gateway and the nodes as a timeline (OTLP export is OTEL_EXPORTER_OTLP_ENDPOINT's)",
        };

        var reuse = OnOffOption.Create("--reuse", true,
            "Prefix reuse: the prefill nodes' prefix cache, the decode nodes' parked conversations and KV-aware routing (off: every request cold)");

        // The decode nodes' own options, passed through so a cluster can serve with torch's step or int8 weights.
        var decodeKernel = DecodeKernelOptions.Kernel();
        var fastWeights = DecodeKernelOptions.Weights();

        var command = new Command("up", "Start a local cluster: prefill and decode nodes and the OpenAI-compatible gateway")
        {
            model, plan, prefill, decode, port, startupTimeout, linkMbit, trace, reuse, decodeKernel, fastWeights,
        };
        command.Validators.Add(result =>
        {
            // --prefill defaults to 1, so only an explicit --prefill can be 0.
            if (result.GetResult(linkMbit) is { Implicit: false }
                && result.GetResult(prefill) is { Implicit: false } given && given.GetValueOrDefault<int>() == 0)
                result.AddError("--link-mbit shapes the link to the prefill nodes, but --prefill 0 starts none");
        });
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelDir = parseResult.GetRequiredValue(model);
            string kernel = parseResult.GetValue(decodeKernel)!, weights = parseResult.GetValue(fastWeights)!;
            // Refuses int8 without the fused kernel here, before any node starts.
            DecodeKernelOptions.ParseWeights(weights, DecodeKernelOptions.ParseKernel(kernel));
            return UpRunner.RunAsync(new LocalClusterOptions
            {
                ModelDir = Path.GetFullPath(modelDir),
                PlanFile = parseResult.GetValue(plan) is { } p ? Path.GetFullPath(p) : null,
                Prefill = parseResult.GetValue(prefill),
                Decode = parseResult.GetValue(decode),
                Port = parseResult.GetValue(port),
                StartupTimeout = TimeSpan.FromSeconds(parseResult.GetValue(startupTimeout)),
                LinkMbit = parseResult.GetValue(linkMbit) is > 0 and int megabits ? megabits : null,
                Trace = parseResult.GetValue(trace),
                Reuse = OnOffOption.Parse(parseResult.GetValue(reuse)!),
                DecodeNodeArguments = ["--decode-kernel", kernel, "--fast-weights", weights],
            }, context, cancellationToken);
        });
        return command;
    }
}
