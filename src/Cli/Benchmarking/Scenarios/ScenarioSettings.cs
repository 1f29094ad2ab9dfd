using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>The validated options of <c>pdserve bench scenarios</c>; paths as the user spelled them (they appear in the commands written out).</summary>
public sealed record ScenarioSettings
{
    public required string CommandLine { get; init; }
    public required string Model { get; init; }
    public required string KvPlan { get; init; }
    public required string PrunePlan { get; init; }
    public required string OutDirectory { get; init; }
    public IReadOnlyList<int> LinkMbits { get; init; } = [1000, 100];
    public IReadOnlyList<double> Rates { get; init; } = [2, 4, 6, 8];
    public int NumPrompts { get; init; } = 60;
    public int InputLength { get; init; } = 384;
    public int OutputLength { get; init; } = 64;
    public int Seed { get; init; }
    public string? Goodput { get; init; } = "ttft:500,tpot:20";
    public int Port { get; init; } = 8400;
    public int CrossCheckSeconds { get; init; } = 30;
    public int CrossCheckConcurrency { get; init; } = 4;
    public int CrossCheckRequests { get; init; } = 120;
    /// <summary>The multi-turn scenarios' conversations (their replies are <see cref="OutputLength"/> tokens) and how many start per second.</summary>
    public ConversationShape Conversation { get; init; } = new();
    public double ConversationRate { get; init; } = 1;
}
