using System.Globalization;

namespace PdServe.Cli.Planning;

/// <summary>The workload to plan for (<c>--workload input:N,output:M,rate:R</c>): prompt and output tokens per request, requests per second.</summary>
public sealed record CapacityWorkload(int InputTokens, int OutputTokens, double Rate)
{
    /// <summary>Prompt tokens per second the prefill pool must process: N·R.</summary>
    public double PromptTokensPerSecond => InputTokens * Rate;

    /// <summary>Output tokens per second the decode pool must produce: R·M.</summary>
    public double OutputTokensPerSecond => Rate * OutputTokens;

    /// <summary>Parses <c>input:N,output:M,rate:R</c> (all three, any order); throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static CapacityWorkload Parse(string text)
    {
        int? input = null, output = null;
        double? rate = null;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] pair = part.Split(':', 2, StringSplitOptions.TrimEntries);
            if (pair.Length != 2) throw new FormatException($"'{part}' is not key:value (keys: input, output, rate)");
            switch (pair[0].ToLowerInvariant())
            {
                case "input" when input is null: input = Tokens(pair[1], part); break;
                case "output" when output is null: output = Tokens(pair[1], part); break;
                case "rate" when rate is null:
                    rate = double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && double.IsFinite(r) && r > 0
                        ? r
                        : throw new FormatException($"'{pair[1]}' in '{part}' is not a positive number of requests per second");
                    break;
                case "input" or "output" or "rate": throw new FormatException($"'{pair[0]}' is given twice");
                default: throw new FormatException($"unknown key '{pair[0]}' (keys: input, output, rate)");
            }
        }
        if (input is null || output is null || rate is null)
            throw new FormatException("the workload needs input:N, output:M and rate:R");
        return new CapacityWorkload(input.Value, output.Value, rate.Value);
    }

    public static bool TryParse(string text, out CapacityWorkload? workload)
    {
        try
        {
            workload = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            workload = null;
            return false;
        }
    }

    private static int Tokens(string value, string part) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int tokens) && tokens >= 1
            ? tokens
            : throw new FormatException($"'{value}' in '{part}' is not a whole number of tokens >= 1");
}
