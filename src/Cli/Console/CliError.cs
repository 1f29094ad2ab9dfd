namespace PdServe.Cli;

/// <summary>
/// A usage or input problem the user can fix. The top-level handler prints <c>pdserve: &lt;message&gt;</c> as one line on
/// stderr and exits with <see cref="ExitCodes.Usage"/>; no stack trace. Keep the message to one line.
/// </summary>
public sealed class CliError(string message, Exception? inner = null) : Exception(message, inner);

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Unexpected failure (a bug, or the environment is broken).</summary>
    public const int Failure = 1;
    /// <summary>Bad usage or input: parse errors, invalid option values, unusable model directory.</summary>
    public const int Usage = 2;
    /// <summary>Interrupted (128 + SIGINT), when cancellation surfaces as an exception.</summary>
    public const int Interrupted = 130;
}
