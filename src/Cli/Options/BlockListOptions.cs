using System.CommandLine;

namespace PdServe.Cli.Options;

/// <summary>Options whose value is a comma-separated list of decoder block indices, e.g. <c>3,5</c>.</summary>
public static class BlockListOptions
{
    public static Option<int[]> Create(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "LIST",
        Arity = ArgumentArity.ExactlyOne,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (IntegerList.TryParse(token, out int[] blocks))
                return blocks;
            result.AddError($"{name} must be a comma-separated list of non-negative integers, got '{token}'");
            return [];
        },
    };
}
