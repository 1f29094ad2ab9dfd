using System.CommandLine;
using PdServe.Cli.Benchmarking.Chaos;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve bench chaos [--model DIR] [--minutes M] [--prefill N --decode M] [--load 0.8] [--kill-every S]
/// [--poison-every S] [--cancel-share 0.1] [--input-len N --output-len M] [--seed S] [--port P] --out FILE.json
/// [--plot FILE.png]</c>: the soak-and-chaos benchmark. A local cluster under steady load while nodes are SIGKILLed and
/// restarted, streams are cancelled and edge-case requests are sent; every request must end in a complete answer or
/// a clean error, failures must be explained by the kills, KV and memory must come back. Exit 1 when a verdict fails.
/// </summary>
public static class BenchChaosCommand
{
    public static Command Create(CliContext context)
    {
        var model = DefaultModel.Option();
        var minutes = OptionChecks.Double("--minutes", 10, "Length of the load with kills and poison requests", "M").Require(m => m > 0, "> 0");
        var prefill = OptionChecks.Int("--prefill", 2, "Prefill nodes").Require(n => n is >= 1 and <= 16, "between 1 and 16");
        var decode = OptionChecks.Int("--decode", 2, "Decode nodes").Require(n => n is >= 1 and <= 16, "between 1 and 16");
        var load = OptionChecks.Double("--load", 0.8, "Offered request rate as a share of the measured saturation throughput", "X")
            .Require(x => x is > 0 and <= 2, "in (0, 2]");
        var killEvery = OptionChecks.Double("--kill-every", 60, "Seconds between node kills (SIGKILL of a random node of a pool with two or more, then a restart)", "S")
            .Require(s => s >= 1, ">= 1");
        var poisonEvery = OptionChecks.Double("--poison-every", 20, "Seconds between edge-case (poison but valid) requests", "S").Require(s => s > 0, "> 0");
        var cancelShare = OptionChecks.Double("--cancel-share", 0.1, "Share of streams the client cancels after a random number of tokens", "X")
            .Require(x => x is >= 0 and <= 1, "in [0, 1]");
        var inputLength = OptionChecks.Int("--input-len", 128, "Prompt tokens (random ids)").Require(n => n >= 1, "an integer >= 1");
        var outputLength = OptionChecks.Int("--output-len", 64, "Tokens to generate (ignore_eos)", "M").Require(n => n >= 1, "an integer >= 1");
        var seed = OptionChecks.Int("--seed", 0, "Seed of the prompts, arrivals, cancellations and kills", "S");
        var port = OptionChecks.Int("--port", 8500, "Gateway port on 127.0.0.1", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");
        var saturationSeconds = OptionChecks.Double("--saturation-seconds", 20, "Length of the closed-loop saturation measurement", "S")
            .Require(s => s >= 1, ">= 1");
        var timeout = OptionChecks.Int("--request-timeout", 300, "Seconds after which an unanswered request counts as lost", "S").Require(n => n >= 1, "an integer >= 1");
        var output = new Option<string>("--out")
        {
            Description = "Write the results (command, machine, requests, kills, time series, verdicts) as JSON", HelpName = "FILE.json", Required = true,
        };
        var plot = new Option<string>("--plot") { Description = "Also draw RSS, KV usage and throughput over time with the kills", HelpName = "FILE.png" };

        var command = new Command("chaos", "Soak and chaos: steady load on a local cluster while nodes are killed and restarted; every request must end cleanly")
        {
            model, minutes, prefill, decode, load, killEvery, poisonEvery, cancelShare, inputLength, outputLength, seed, port, saturationSeconds,
            timeout, output, plot,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new ChaosOptions
            {
                ModelDirectory = Path.GetFullPath(parseResult.GetRequiredValue(model)),
                Minutes = parseResult.GetValue(minutes),
                Prefill = parseResult.GetValue(prefill),
                Decode = parseResult.GetValue(decode),
                Load = parseResult.GetValue(load),
                KillEverySeconds = parseResult.GetValue(killEvery),
                PoisonEverySeconds = parseResult.GetValue(poisonEvery),
                CancelShare = parseResult.GetValue(cancelShare),
                InputLength = parseResult.GetValue(inputLength),
                OutputLength = parseResult.GetValue(outputLength),
                Seed = parseResult.GetValue(seed),
                Port = parseResult.GetValue(port),
                SaturationSeconds = parseResult.GetValue(saturationSeconds),
                RequestTimeout = TimeSpan.FromSeconds(parseResult.GetValue(timeout)),
            };
            string commandLine = "pdserve " + string.Join(' ', parseResult.Tokens.Select(t => t.Value));
            var report = await ChaosConsole.RunAsync(options, commandLine, parseResult.GetRequiredValue(output), parseResult.GetValue(plot), context,
                cancellationToken);
            return report.Failed ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }
}
