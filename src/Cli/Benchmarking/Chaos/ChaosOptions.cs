namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>The validated options of <c>pdserve bench chaos</c>.</summary>
public sealed record ChaosOptions
{
    public required string ModelDirectory { get; init; }
    public double Minutes { get; init; } = 10;
    public int Prefill { get; init; } = 2;
    public int Decode { get; init; } = 2;
    /// <summary>Offered load as a share of the measured saturation throughput (requests per second).</summary>
    public double Load { get; init; } = 0.8;
    public double KillEverySeconds { get; init; } = 60;
    public double PoisonEverySeconds { get; init; } = 20;
    /// <summary>Share of the load's streams the client cancels after a random number of tokens.</summary>
    public double CancelShare { get; init; } = 0.1;
    public int InputLength { get; init; } = 128;
    public int OutputLength { get; init; } = 64;
    public int Seed { get; init; }
    public int Port { get; init; } = 8500;
    /// <summary>Length of the closed-loop saturation measurement before the load.</summary>
    public double SaturationSeconds { get; init; } = 20;
    public int SaturationConcurrency { get; init; } = 32;
    /// <summary>A request still unanswered after this long counts as lost.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
