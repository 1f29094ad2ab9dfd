using System.CommandLine;
using System.Globalization;

namespace PdServe.Cli.Options;

/// <summary>Option builders and range checks; failures become parse errors naming the option (exit 2).</summary>
public static class OptionChecks
{
    /// <summary>Adds a check on the option's value; <paramref name="requirement"/> completes "--name must be ...".</summary>
    public static Option<T> Require<T>(this Option<T> option, Func<T, bool> isValid, string requirement)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Errors.Any()) return;
            T? value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // conversion failed; that error is already reported
            }
            if (value is not null && !isValid(value))
                result.AddError($"{option.Name} must be {requirement}, got {string.Join(' ', result.Tokens.Select(t => t.Value))}");
        });
        return option;
    }

    /// <summary>A double option parsed with the invariant culture; rejects NaN and infinities.</summary>
    public static Option<double> Double(string name, double defaultValue, string description, string helpName = "X") =>
        Parsed(name, defaultValue, description, helpName, "a number",
            (string token, out double value) =>
                double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value));

    /// <summary>An int option with a clear message when the value is not an integer.</summary>
    public static Option<int> Int(string name, int defaultValue, string description, string helpName = "N") =>
        Parsed(name, defaultValue, description, helpName, "an integer",
            (string token, out int value) => int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out value));

    /// <summary>An optional 64-bit integer option (null when absent).</summary>
    public static Option<long?> OptionalLong(string name, string description, string helpName = "N") =>
        Parsed<long?>(name, null, description, helpName, "an integer",
            (string token, out long? value) =>
            {
                bool ok = long.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed);
                value = parsed;
                return ok;
            });

    private delegate bool TryParse<T>(string token, out T value);

    /// <summary>An option whose value is parsed by <paramref name="parse"/>; a failure names the option and the token.</summary>
    private static Option<T> Parsed<T>(string name, T defaultValue, string description, string helpName, string kind,
        TryParse<T> parse) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (parse(token, out T value)) return value;
            result.AddError($"{name} must be {kind}, got '{token}'");
            return defaultValue;
        },
    };

    /// <summary><c>--threads N</c>: torch intra-op threads, default the processor count.</summary>
    public static Option<int> Threads() =>
        Int("--threads", Environment.ProcessorCount, "Torch intra-op threads (default: the processor count)")
            .Require(n => n >= 1, "an integer >= 1");

    /// <summary>Rejects a directory path that does not exist.</summary>
    public static Option<string> ExistingDirectory(this Option<string> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Errors.Any()) return;
            string? path = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (path is null) return;
            if (File.Exists(path))
                result.AddError($"{option.Name}: '{path}' is a file, expected a model directory");
            else if (!Directory.Exists(path))
                result.AddError($"{option.Name}: directory '{path}' does not exist");
        });
        return option;
    }
}
