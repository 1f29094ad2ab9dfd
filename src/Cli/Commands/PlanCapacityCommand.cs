using System.CommandLine;
using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Options;
using PdServe.Cli.Planning;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve plan-capacity --workload input:N,output:M,rate:R [--slo ttft:MS,tpot:MS] [--prefill-bench FILE]
/// [--decode-bench FILE] [--prefill-bench-nodes P] [--decode-bench-nodes D] [--percentile 90] [--json FILE]</c>: how
/// many prefill and decode nodes meet the SLO for a workload, from per-node figures of <c>bench serve</c> runs, with the
/// arithmetic shown. Exit 1 when no pool size meets the TTFT limit.
/// </summary>
public static class PlanCapacityCommand
{
    public const string DefaultBench = "bench/serving/pd.json";

    public static Command Create(CliContext context)
    {
        var workload = new Option<string>("--workload")
        {
            Description = "The workload: prompt tokens, output tokens and requests per second", HelpName = "input:N,output:M,rate:R", Required = true,
        }.Require(text => CapacityWorkload.TryParse(text, out _), "input:N,output:M,rate:R (tokens >= 1, rate > 0)");
        var slo = new Option<string>("--slo")
        {
            Description = "The SLO, milliseconds: mean TTFT and TPOT at --percentile (the serving benchmark's: ttft:500,tpot:20)", HelpName = "ttft:MS,tpot:MS",
            DefaultValueFactory = _ => "ttft:500,tpot:20",
        }.Require(text => SloLimits.TryParse(text, out var limits) && limits is { TtftMs: not null, TpotMs: not null, E2elMs: null }, "ttft:MS,tpot:MS");
        var prefillBench = BenchOption("--prefill-bench", "A bench serve JSON whose cluster's prefill pool gives the per-node prefill figures");
        var decodeBench = BenchOption("--decode-bench", "A bench serve JSON whose cluster's decode pool gives the per-node decode figures");
        var prefillNodes = OptionChecks.Int("--prefill-bench-nodes", 1, "Prefill nodes of the cluster --prefill-bench measured", "P").Require(n => n >= 1, ">= 1");
        var decodeNodes = OptionChecks.Int("--decode-bench-nodes", 1, "Decode nodes of the cluster --decode-bench measured", "D").Require(n => n >= 1, ">= 1");
        var percentile = OptionChecks.Int("--percentile", 90, "Percentile of the measured TPOT held to the limit", "50|90|99").Require(p => p is 50 or 90 or 99, "50, 90 or 99");
        var json = new Option<string>("--json") { Description = "Also write the plan (figures, every size considered) as JSON", HelpName = "FILE" };

        var command = new Command("plan-capacity", "How many prefill and decode nodes meet an SLO for a workload, from bench serve figures, with the arithmetic")
        {
            workload, slo, prefillBench, decodeBench, prefillNodes, decodeNodes, percentile, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var limits = SloLimits.Parse(parseResult.GetRequiredValue(slo));
            var prefill = PrefillFigures.From(ServeBenchFile.Load(parseResult.GetRequiredValue(prefillBench)), parseResult.GetValue(prefillNodes));
            var decode = DecodeFigures.From(ServeBenchFile.Load(parseResult.GetRequiredValue(decodeBench)), parseResult.GetValue(decodeNodes),
                limits.TpotMs!.Value, parseResult.GetValue(percentile));
            var plan = CapacityPlan.Make(CapacityWorkload.Parse(parseResult.GetRequiredValue(workload)), limits.TtftMs!.Value, limits.TpotMs.Value, prefill, decode);
            context.Stdout.Write(CapacityPlanText.Render(plan));
            context.Stdout.Flush();
            if (parseResult.GetValue(json) is { } path)
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(plan, BenchmarkJson.Options) + "\n", cancellationToken);
            return plan.Feasible ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static Option<string> BenchOption(string name, string description) => new(name)
    {
        Description = $"{description} (default: the checkout's {DefaultBench}, one prefill and one decode node)",
        HelpName = "FILE",
        DefaultValueFactory = _ => CheckoutFile.Find(DefaultBench) ?? DefaultBench,
    };
}
