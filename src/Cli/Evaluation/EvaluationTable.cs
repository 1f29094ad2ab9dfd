using System.Globalization;
using PdServe.Cli.Terminal;
using PdServe.Pruning.Evaluation;
using Spectre.Console;

namespace PdServe.Cli.Evaluation;

/// <summary>Evaluation results as a console table; perplexity change is relative to the first (unpruned) row.</summary>
public static class EvaluationTable
{
    public static void Write(CliContext context, string title, IReadOnlyList<EvaluationResult> results)
    {
        string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        double baseline = results[0].Perplexity;
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn("configuration")
            .AddColumn(new TableColumn("tokens").RightAligned())
            .AddColumn(new TableColumn("mean loss").RightAligned())
            .AddColumn(new TableColumn("perplexity").RightAligned())
            .AddColumn(new TableColumn("vs first").RightAligned())
            .AddColumn(new TableColumn("top-1 agreement").RightAligned())
            .AddColumn(new TableColumn("KL to unpruned").RightAligned());
        foreach (EvaluationResult r in results)
        {
            table.AddRow(
                Markup.Escape(r.Label),
                r.TokensEvaluated.ToString(CultureInfo.InvariantCulture),
                F(r.MeanLoss, "F4"),
                F(r.Perplexity, "F3"),
                (r.Perplexity / baseline - 1).ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture),
                r.Top1Agreement is { } agreement ? agreement.ToString("P1", CultureInfo.InvariantCulture) : "-",
                r.MeanKl is { } kl ? F(kl, "F4") : "-");
        }
        context.Out.Write(table);
    }
}
