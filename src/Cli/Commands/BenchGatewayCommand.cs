using System.CommandLine;
using System.Text.Json;
using PdServe.Cli.Benchmarking;
using PdServe.Cli.Benchmarking.Gateway;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench gateway [--model DIR] [--requests N] [--concurrency C] [--rounds R] [--json FILE]</c>: the latency the
/// gateway adds to a request, against a synthetic decode node that answers at once (so the node's own time is nil).
/// </summary>
public static class BenchGatewayCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option("Model directory whose tokenizer the gateway uses");
        var requests = OptionChecks.Int("--requests", 4000, "Measured requests per path").Require(n => n >= 10, "an integer >= 10");
        var concurrency = OptionChecks.Int("--concurrency", 1, "Requests in flight at once (the same for both paths)", "C")
            .Require(n => n is >= 1 and <= 256, "between 1 and 256");
        var rounds = OptionChecks.Int("--rounds", 20, "Alternating rounds of direct and gateway requests", "R")
            .Require(n => n >= 1, "an integer >= 1");
        var json = new Option<string>("--json") { Description = "Also write the results to this JSON file", HelpName = "FILE" };

        var command = new Command("gateway", "Measure the latency the gateway adds over calling a decode node directly")
        {
            model, requests, concurrency, rounds, json,
        };
        command.SetAction(async (parseResult, _) =>
        {
            string modelDir = parseResult.GetRequiredValue(model);
            var report = await GatewayOverheadBench.RunAsync(Path.GetFullPath(modelDir), parseResult.GetValue(requests),
                parseResult.GetValue(concurrency), parseResult.GetValue(rounds));
            GatewayOverheadTable.Write(report, context);
            if (parseResult.GetValue(json) is { } path)
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, BenchmarkJson.Options) + "\n");
            return ExitCodes.Ok;
        });
        return command;
    }
}
