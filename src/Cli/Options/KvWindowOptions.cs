using System.CommandLine;
using PdServe.Pruning.Calibration;

namespace PdServe.Cli.Options;

/// <summary>
/// <c>--kv-first F --kv-last L</c>: the prompt positions a KV-pruned layer keeps, with prune's calibration defaults;
/// one definition for <c>prune</c> and for <c>bench pruning</c>, which passes them on to every search.
/// </summary>
public static class KvWindowOptions
{
    private static readonly CalibrationOptions Defaults = new();

    public static int DefaultFirst => Defaults.First;
    public static int DefaultLast => Defaults.Last;

    public static Option<int> First() =>
        OptionChecks.Int("--kv-first", DefaultFirst, "F: first prompt positions a KV-pruned layer keeps", "F").Require(n => n >= 0, "an integer >= 0");

    public static Option<int> Last() =>
        OptionChecks.Int("--kv-last", DefaultLast, "L: last prompt positions a KV-pruned layer keeps", "L").Require(n => n >= 0, "an integer >= 0");
}
