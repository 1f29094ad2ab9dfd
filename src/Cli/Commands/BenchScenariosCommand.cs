using System.CommandLine;
using PdServe.Cli.Benchmarking.Scenarios;
using PdServe.Cli.Benchmarking.Serving;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench scenarios</c>: starts each cluster layout through <c>pdserve up</c>, runs <c>bench serve</c> against
/// it, and writes bench/RESULTS-serving.md with tables, plots and every row's exact commands (<see cref="ScenarioRunner"/>).
/// </summary>
public static class BenchScenariosCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var kvPlan = PlanFile("--kv-plan", "configs/kv-plan.json", "Plan with the token-aware KV policy (the pd-kv scenarios)");
        var prunePlan = PlanFile("--prune-plan", "configs/prune-plan.json", "Prune plan: pruned blocks and KV policy (the pd-plan scenarios)");
        var outDirectory = new Option<string>("--out-dir")
        {
            Description = "Writes RESULTS-serving.md here and the JSON and plots under serving/", HelpName = "DIR", DefaultValueFactory = _ => "bench",
        };
        var rates = new Option<string>("--rates") { Description = "Request rates of every scenario", HelpName = "r1,r2,…", DefaultValueFactory = _ => "2,4,6,8" }
            .Require(text => ServeBenchOptions.TryParseRates(text, out _), "a comma-separated list of positive numbers or inf");
        var numPrompts = OptionChecks.Int("--num-prompts", 60, "Requests per rate", "P").Require(n => n >= 1, "an integer >= 1");
        var inputLength = OptionChecks.Int("--input-len", 384, "Prompt tokens").Require(n => n >= 1, "an integer >= 1");
        var outputLength = OptionChecks.Int("--output-len", 64, "Output tokens (ignore_eos)", "M").Require(n => n >= 1, "an integer >= 1");
        var goodput = new Option<string>("--goodput") { Description = "SLO limits for goodput (as bench serve)", HelpName = "ttft:MS,tpot:MS", DefaultValueFactory = _ => "ttft:500,tpot:20" }
            .Require(text => SloLimits.TryParse(text, out _), "metric:milliseconds pairs (ttft, tpot, e2el)");
        var links = new Option<string>("--links")
        {
            Description = "Shaped-link rates in Mbit/s for the shaped scenarios (root, iproute2); none skips them",
            HelpName = "LIST|none",
            DefaultValueFactory = _ => "1000,100",
        }.Require(text => text == "none" || (IntegerList.TryParse(text, out int[] parsed) && parsed.All(n => n >= 1)), "none or a comma-separated list of positive integers");
        var port = OptionChecks.Int("--port", 8400, "Gateway port of every cluster", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");
        var seed = OptionChecks.Int("--seed", 0, "Seed of the dataset and arrivals", "S");
        var conversationRate = OptionChecks.Double("--conversation-rate", 1, "Conversations started per second in the multi-turn scenarios (Poisson)", "R")
            .Require(r => double.IsFinite(r) && r > 0, "a positive number");
        var crossCheck = OptionChecks.Int("--cross-check-seconds", 30, "Length of the wrk cross-check (0 skips it)", "S").Require(n => n >= 0, "an integer >= 0");

        var command = new Command("scenarios",
            "Run bench serve against unified, disaggregated, KV-pruned, shaped-link and multi-turn reuse off/on clusters and write bench/RESULTS-serving.md")
        {
            model, kvPlan, prunePlan, outDirectory, rates, numPrompts, inputLength, outputLength, goodput, links, port, seed, conversationRate, crossCheck,
        };
        command.SetAction(async (parseResult, _) =>
        {
            ServeBenchOptions.TryParseRates(parseResult.GetValue(rates)!, out var rateList);
            string linkText = parseResult.GetValue(links)!;
            int[] linkList = [];
            if (linkText != "none") IntegerList.TryParse(linkText, out linkList);
            var settings = new ScenarioSettings
            {
                CommandLine = "pdserve " + string.Join(' ', parseResult.Tokens.Select(t => t.Value)),
                Model = AsTyped(parseResult.GetRequiredValue(model)),
                KvPlan = parseResult.GetValue(kvPlan)!,
                PrunePlan = parseResult.GetValue(prunePlan)!,
                OutDirectory = parseResult.GetValue(outDirectory)!,
                Rates = rateList,
                NumPrompts = parseResult.GetValue(numPrompts),
                InputLength = parseResult.GetValue(inputLength),
                OutputLength = parseResult.GetValue(outputLength),
                Goodput = parseResult.GetValue(goodput),
                LinkMbits = linkList,
                Port = parseResult.GetValue(port),
                Seed = parseResult.GetValue(seed),
                CrossCheckSeconds = parseResult.GetValue(crossCheck),
                ConversationRate = parseResult.GetValue(conversationRate),
            };
            using var interrupt = new InterruptSignal();
            return await new ScenarioRunner(settings, context).RunAsync(interrupt.Token);
        });
        return command;
    }

    private static Option<string> PlanFile(string name, string defaultPath, string description) =>
        new Option<string>(name) { Description = description, HelpName = "FILE", DefaultValueFactory = _ => defaultPath }
            .Require(File.Exists, "an existing plan file");

    /// <summary>A path under the current directory relative to it (as a user would type it in the commands written out).</summary>
    private static string AsTyped(string path)
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
