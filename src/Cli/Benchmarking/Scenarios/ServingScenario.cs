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
    /// <summary><c>pdserve up --reuse on|off</c> (prefix cache, conversation cache and routing by KV); null leaves up's default.</summary>
    public bool? Reuse { get; init; }

    /// <summary>Runs the multiturn dataset (conversations) instead of the random one.</summary>
    public bool Conversations { get; init; }

    /// <summary>The arguments of <c>pdserve up</c> for this scenario (paths as the caller spelled them).</summary>
    public IReadOnlyList<string> UpArguments(string model, int port)
    {
        var arguments = new List<string> { "up", "--model", model, "--prefill", Text(Prefill), "--decode", Text(Decode) };
        if (Plan is not null) arguments.AddRange(["--plan", Plan]);
        if (LinkMbit is { } mbit) arguments.AddRange(["--link-mbit", Text(mbit)]);
        if (Reuse is { } reuse) arguments.AddRange(["--reuse", reuse ? "on" : "off"]);
        arguments.AddRange(["--port", Text(port)]);
        return arguments;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
