using System.CommandLine;
using System.CommandLine.Invocation;
using PdServe.Cli.Commands;
using PdServe.Cli.Terminal;

namespace PdServe.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, CliContext.FromProcessConsole());

    /// <summary>Runs the CLI in-process with the given writers (neither is treated as a terminal).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, new CliContext(stdout, stderr));

    public static int Run(string[] args, CliContext context) =>
        // The invocation is synchronous here, so the await in Execute completes inline and nothing blocks on a context.
        Execute(args, context, (parseResult, configuration) => Task.FromResult(parseResult.Invoke(configuration))).GetAwaiter().GetResult();

    /// <summary>
    /// Runs the CLI in-process; <paramref name="cancellationToken"/> reaches the command's action (so a caller can stop a
    /// long-running command such as <c>gateway</c>).
    /// </summary>
    public static Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken) =>
        Execute(args, context, (parseResult, configuration) => parseResult.InvokeAsync(configuration, cancellationToken));

    private static async Task<int> Execute(string[] args, CliContext context, Func<ParseResult, InvocationConfiguration, Task<int>> invoke)
    {
        try
        {
            var root = BuildRootCommand(context);
            if (args.Length == 0)
                args = ["--help"];
            ParseResult parseResult = root.Parse(args);
            if (parseResult.Action is ParseErrorAction && parseResult.Errors.Count > 0)
                return ErrorReporter.ReportParseErrors(parseResult, context.Stderr);
            int code = await invoke(parseResult, new InvocationConfiguration
            {
                Output = context.Stdout,
                Error = context.Stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
            context.Stdout.Flush();
            return code;
        }
        catch (Exception e)
        {
            context.Stdout.Flush();
            return ErrorReporter.Report(e, context.Stderr);
        }
    }

    public static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand("PdServe: LLM inference server (TorchSharp, CPU)")
        {
            GenerateCommand.Create(context),
            TrainCommand.Create(context),
            PrefillCommand.Create(context),
            DecodeCommand.Create(context),
            BenchCommand.Create(context),
            EvalCommand.Create(context),
            PruneCommand.Create(context),
            UpCommand.Create(context),
            GatewayCommand.Create(context),
            PlanCapacityCommand.Create(context),
        };
        foreach (var option in root.Options)
        {
            if (option is VersionOption version)
                version.Action = new PrintVersionAction();
        }
        return root;
    }

    private sealed class PrintVersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"{CliIdentity.Name} {CliIdentity.Version}");
            return ExitCodes.Ok;
        }
    }
}
