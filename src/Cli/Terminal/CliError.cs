namespace PdServe.Cli.Terminal;

/// <summary>
/// A usage or input problem the user can fix. The top-level handler prints <c>pdserve: &lt;message&gt;</c> as one line on
/// stderr and exits with <see cref="ExitCodes.Usage"/>; no stack trace. Keep the message to one line.
/// </summary>
public sealed class CliError(string message, Exception? inner = null) : Exception(message, inner);
