using Spectre.Console;

namespace PdServe.Cli.Terminal;

/// <summary>Where a command writes, and whether those streams are terminals. Passed to every command.</summary>
public sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr, bool stdoutIsTerminal = false, bool stderrIsTerminal = false)
    {
        Stdout = stdout;
        Stderr = stderr;
        StdoutIsTerminal = stdoutIsTerminal;
        StderrIsTerminal = stderrIsTerminal;
        Out = CreateConsole(stdout, stdoutIsTerminal);
    }

    public TextWriter Stdout { get; }
    public TextWriter Stderr { get; }
    public bool StdoutIsTerminal { get; }
    public bool StderrIsTerminal { get; }

    /// <summary>Spectre console on stdout, for tables and other rich output (plain text when not a terminal).</summary>
    public IAnsiConsole Out { get; }

    /// <summary>The real process console: stdout/stderr are the process's, terminal detection from redirection.</summary>
    public static CliContext FromProcessConsole() =>
        new(System.Console.Out, System.Console.Error,
            stdoutIsTerminal: !System.Console.IsOutputRedirected,
            stderrIsTerminal: !System.Console.IsErrorRedirected);

    internal static IAnsiConsole CreateConsole(TextWriter writer, bool isTerminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        // Files and pipes have no width; do not wrap tables at 80 columns there.
        if (!isTerminal)
            console.Profile.Width = 160;
        return console;
    }
}
