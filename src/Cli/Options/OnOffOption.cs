using System.CommandLine;

namespace PdServe.Cli.Options;

/// <summary>A switch spelled <c>--name on|off</c>: explicit both ways, so a script can turn a default-on feature off.</summary>
public static class OnOffOption
{
    public static Option<string> Create(string name, bool defaultOn, string description) => new Option<string>(name)
    {
        Description = description,
        HelpName = "on|off",
        DefaultValueFactory = _ => defaultOn ? "on" : "off",
    }.Require(value => value is "on" or "off", "on or off");

    public static bool Parse(string value) => value == "on";
}
