using System.CommandLine;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary><c>pdserve bench</c>: the benchmark group.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext context) =>
        new("bench", "Benchmarks (machine ceilings, engine throughput, KV transfer, gateway overhead, serving, soak and chaos, multi-host scaling, the pruning report)")
        {
            BenchEngineCommand.Create(context),
            BenchTransferCommand.Create(context),
            BenchGatewayCommand.Create(context),
            BenchServeCommand.Create(context),
            BenchScenariosCommand.Create(context),
            BenchChaosCommand.Create(context),
            BenchScaleCommand.Create(context),
            BenchPruningCommand.Create(context),
        };
}
