using System.Globalization;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// One cluster layout of <c>pdserve bench scenarios</c>: how many prefill and decode nodes <c>pdserve up</c> starts, the
/// prune plan every node loads, and the shaped link (Mbit/s) between the prefill nodes and the rest, if any.
/// <see cref="Group"/> puts scenarios into one table and plot; <see cref="Baseline"/> names the scenario it is compared with.
/// </summary>
public sealed record ServingScenario(string Name, string Group, string Description, int Prefill, int Decode, string? Plan, int? LinkMbit,
    string? Baseline)
{
    /// <summary>The arguments of <c>pdserve up</c> for this scenario (paths as the caller spelled them).</summary>
    public IReadOnlyList<string> UpArguments(string model, int port)
    {
        var arguments = new List<string> { "up", "--model", model, "--prefill", Text(Prefill), "--decode", Text(Decode) };
        if (Plan is not null) arguments.AddRange(["--plan", Plan]);
        if (LinkMbit is { } mbit) arguments.AddRange(["--link-mbit", Text(mbit)]);
        arguments.AddRange(["--port", Text(port)]);
        return arguments;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
