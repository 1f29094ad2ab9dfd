namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>What <c>pdserve bench serve --out FILE.json</c> writes: the exact command, the machine, the workload and one result per rate.</summary>
public sealed record ServeBenchReport
{
    public required string Command { get; init; }
    public required MachineDescription Machine { get; init; }
    public required string StartedAt { get; init; }
    public required string Url { get; init; }
    public required string Model { get; init; }
    public required string Dataset { get; init; }
    public required int InputLength { get; init; }
    public required int OutputLength { get; init; }
    public required double RangeRatio { get; init; }
    /// <summary>Requests per rate (multiturn: conversations × turns).</summary>
    public required int NumPrompts { get; init; }
    /// <summary>The multiturn dataset's conversations; null for the other datasets.</summary>
    public ConversationShape? Conversation { get; init; }
    /// <summary>The shared-prefix dataset's prompts; null for the other datasets.</summary>
    public SharedPrefixShape? SharedPrefix { get; init; }
    public int? MaxConcurrency { get; init; }
    public required int Seed { get; init; }
    public required bool IgnoreEos { get; init; }
    public required bool Stream { get; init; }
    public string? Goodput { get; init; }
    public required int WarmupRequests { get; init; }
    public required IReadOnlyList<RateResult> Rates { get; init; }

    public int TotalFailed => Rates.Sum(r => r.Failed);
    public int TotalCompleted => Rates.Sum(r => r.Completed);

    /// <summary>The <see cref="Command"/> of a run with these arguments of <c>pdserve</c>: each quoted as a shell needs it.</summary>
    public static string CommandOf(IEnumerable<string> arguments) => "pdserve " + string.Join(' ', arguments.Select(Quote));

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsLetterOrDigit(c) || "-_./:,=@+".Contains(c)) ? token : "'" + token.Replace("'", "'\\''") + "'";
}
