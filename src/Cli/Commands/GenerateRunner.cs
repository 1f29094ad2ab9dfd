namespace PdServe.Cli.Commands;

/// <summary>Runs <c>pdserve generate</c> against the engine.</summary>
public static class GenerateRunner
{
    /// <summary>
    /// Generates text for <paramref name="options"/>. Write results to <c>context.Stdout</c> (or
    /// <c>context.Out</c>), diagnostics to <c>context.Stderr</c>; use <see cref="LoadingProgress"/> around model
    /// loading. Throw <see cref="CliError"/> for user errors (exit 2). Returns the exit code.
    /// </summary>
    public static int Run(GenerateOptions options, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        throw new CliError("generate: engine not wired yet");
    }
}
