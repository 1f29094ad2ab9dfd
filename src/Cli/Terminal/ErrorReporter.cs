using System.CommandLine;
using PdServe.Engine.Loading;

namespace PdServe.Cli.Terminal;

/// <summary>Turns failures into one line on stderr and an exit code. Set PDSERVE_DEBUG=1 to also get stack traces.</summary>
public static class ErrorReporter
{
    public static int Report(Exception exception, TextWriter stderr)
    {
        exception = Unwrap(exception);
        (string message, int code) = exception switch
        {
            CliError e => (e.Message, ExitCodes.Usage),
            ModelLoadException e => (e.Message, ExitCodes.Usage),
            Engine.Planning.PrunePlanException e => (e.Message, ExitCodes.Usage),
            FileNotFoundException e => (e.FileName is { } f && !e.Message.Contains(f) ? $"{e.Message} ({f})" : e.Message,
                ExitCodes.Usage),
            DirectoryNotFoundException e => (e.Message, ExitCodes.Usage),
            OperationCanceledException => ("interrupted", ExitCodes.Interrupted),
            _ => ($"unexpected error: {exception.GetType().Name}: {exception.Message}", ExitCodes.Failure),
        };
        WriteLine(stderr, message);
        if (Environment.GetEnvironmentVariable("PDSERVE_DEBUG") is "1" or "true")
            stderr.WriteLine(exception.ToString());
        stderr.Flush();
        return code;
    }

    /// <summary>Writes <c>pdserve: &lt;message&gt;</c>, folded onto one line.</summary>
    public static void WriteLine(TextWriter stderr, string message) =>
        stderr.WriteLine($"{CliIdentity.Name}: {OneLine(message)}");

    /// <summary>A parse result that failed: the most specific error (they usually cascade), with where to get help.</summary>
    public static int ReportParseErrors(ParseResult parseResult, TextWriter stderr)
    {
        var command = parseResult.CommandResult.Command;
        string commandPath = CommandPath(command);
        // "Required command was not provided" is the least useful when a token was also not recognised.
        var errors = parseResult.Errors
            .OrderBy(e => e.SymbolResult is System.CommandLine.Parsing.CommandResult && IsMissingSubcommand(e.Message) ? 1 : 0)
            .ToList();
        var error = errors[0];
        string message = IsMissingSubcommand(error.Message) && command.Subcommands.Count > 0
            ? $"'{commandPath}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}"
            : error.Message;
        string more = errors.Count > 1 ? $" (and {errors.Count - 1} more)" : "";
        WriteLine(stderr, $"{message}{more} (see '{commandPath} --help')");
        stderr.Flush();
        return ExitCodes.Usage;
    }

    private static bool IsMissingSubcommand(string message) =>
        message.StartsWith("Required command was not provided", StringComparison.Ordinal);

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is not null; s = s.Parents.FirstOrDefault())
            names.Add(s is RootCommand ? CliIdentity.Name : s.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    private static Exception Unwrap(Exception exception)
    {
        while (true)
        {
            switch (exception)
            {
                case AggregateException { InnerExceptions.Count: 1 } a:
                    exception = a.InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    exception = inner;
                    continue;
                case TypeInitializationException { InnerException: { } inner }:
                    exception = inner;
                    continue;
                default:
                    return exception;
            }
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
