namespace PdServe.Cli.Terminal;

/// <summary>The exit codes of every command.</summary>
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
