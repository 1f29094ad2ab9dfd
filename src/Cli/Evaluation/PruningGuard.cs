using PdServe.Cli.Terminal;
using PdServe.Pruning;

namespace PdServe.Cli.Evaluation;

/// <summary>Runs pruning work (evaluation, the prune search), turning input it cannot use into a usage error.</summary>
public static class PruningGuard
{
    public static T Run<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (PruningInputException e)
        {
            throw new CliError(e.Message, e);
        }
    }
}
