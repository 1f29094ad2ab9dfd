using System.CommandLine;
using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Options;

/// <summary><c>--plan FILE</c>: a prune plan, validated and checked against the model before any work starts.</summary>
public static class PlanOptions
{
    public static Option<string> Create() => new("--plan")
    {
        Description = "Prune plan (JSON from 'pdserve prune'): the blocks each stage skips and the KV policy",
        HelpName = "FILE",
    };

    /// <summary>Reads and validates the plan and checks it was made for the weights in <paramref name="modelDirectory"/>.</summary>
    /// <exception cref="CliError">The plan is missing, invalid or made for other weights.</exception>
    public static PrunePlan LoadFor(string planPath, string modelDirectory)
    {
        try
        {
            PrunePlan plan = PrunePlan.Load(planPath);
            ModelDirectory directory = ModelDirectory.Open(modelDirectory);
            plan.EnsureMatches(directory.Fingerprint, directory.Config.NumLayers);
            // A healed plan's weight files must be there and be the ones it names before any work starts.
            plan.HealedFile(prefill: true);
            plan.HealedFile(prefill: false);
            return plan;
        }
        catch (PrunePlanException e)
        {
            throw new CliError($"--plan: {e.Message}", e);
        }
    }
}
