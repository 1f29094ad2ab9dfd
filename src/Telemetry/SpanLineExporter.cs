using System.Diagnostics;
using OpenTelemetry;

namespace PdServe.Telemetry;

/// <summary>Exports finished spans as <see cref="SpanLine"/>s: printed on standard output, handed to a sink, or both.</summary>
public sealed class SpanLineExporter(string service, bool print, Action<SpanLine>? sink) : BaseExporter<Activity>
{
    private static readonly Lock ConsoleLock = new();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (Activity activity in batch)
        {
            SpanLine line = SpanLine.From(activity, service);
            if (print)
            {
                string text = line.Format();
                lock (ConsoleLock) Console.Out.WriteLine(text);
            }
            sink?.Invoke(line);
        }
        if (print) Console.Out.Flush();
        return ExportResult.Success;
    }
}
