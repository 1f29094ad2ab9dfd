namespace PdServe.Cli.Benchmarking.Chaos;

/// <summary>One check of the chaos run; <see cref="Judged"/> false says the run could not judge it (too short), not that it passed.</summary>
public sealed record ChaosVerdict(string Name, bool Judged, bool Passed, string Detail)
{
    public bool Fails => Judged && !Passed;

    public static ChaosVerdict Of(string name, bool passed, string detail) => new(name, true, passed, detail);

    public static ChaosVerdict NotJudged(string name, string why) => new(name, false, false, why);
}
