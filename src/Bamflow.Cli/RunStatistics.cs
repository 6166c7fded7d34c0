using System.Globalization;
using System.Text;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary>The <c>--stats</c> table: where a run's time went.</summary>
internal static class RunStatistics
{
    public static string Format(ConversionSummary summary)
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"{"stage",-30} {"items",10} {"busy s",9} {"workers",8} {"utilisation",12}");
        foreach (StageMetrics stage in summary.Stages)
        {
            text.AppendLine(culture, $"{stage.Name,-30} {stage.Items,10:N0} {stage.Busy.TotalSeconds,9:F3} {stage.Workers,8} {stage.Utilisation,11:P0}");
        }

        // The managed figure counts every buffer allocated, pooled ones whole even where their pages were never touched; the
        // process figure is the peak resident set (VmHWM), what /usr/bin/time calls maximum resident: it can be the smaller.
        text.AppendLine(culture, $"wall time {summary.Elapsed.TotalSeconds:F3} s; peak memory: resident (VmHWM) {summary.PeakProcessBytes / 1e6:F0} MB, managed heap allocated {summary.PeakManagedBytes / 1e6:F0} MB; at most {ConvertCommand.Count(summary.PeakChunks, "chunk buffer")} and {ConvertCommand.Count(summary.PeakBatches, "batch")} at once");
        return text.ToString();
    }
}
