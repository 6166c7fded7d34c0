using System.CommandLine;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Bamflow.Arrow;
using Bamflow.Bam;
using Bamflow.Dataflow;

namespace Bamflow.Cli;

/// <summary><c>bamflow schema IN.bam [REGION …]</c>: prints the Arrow schema a conversion (of those regions) would produce.</summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var input = Commands.Input();
        var tags = Commands.Tags();
        var tagScan = Commands.TagScan();
        var noSeq = Commands.NoSeq();
        var noQual = Commands.NoQual();
        var maxRecordSize = Commands.MaxRecordSize();
        var metadata = new Option<bool>("--metadata") { Description = "Also print the schema metadata (the SAM header text, version, …)." };
        var command = new Command("schema", "Print the Arrow schema that 'convert' would write for a BAM file (reads only the first --tag-scan records).")
        {
            input, tags, tagScan, noSeq, noQual, metadata, maxRecordSize,
        };
        var regionOptions = new RegionOptions();
        regionOptions.AddTo(command);
        command.SetAction(parse => Cli.Run(() =>
        {
            StandardStreams.RequireOutput();
            var options = UsageException.Check(() => Commands.BuildConversionOptions(parse, tags, tagScan, noSeq, noQual));
            int recordSizeLimit = Commands.ParseMaxRecordSize(parse, maxRecordSize);
            using var logging = CliLogging.Create(quiet: false);
            (string inputPath, string? indexPath) = regionOptions.ResolveInput(parse, parse.GetValue(input)!);
            using BamReader reader = BamReader.Open(inputPath, logging.Logger);
            reader.MaxRecordSize = recordSizeLimit;
            BamArrowPipeline engine = regionOptions.Apply(parse, new BamArrowPipeline(options, null, logging.Logger), reader, inputPath, indexPath);
            using SchemaPlan plan = engine.PlanAsync(reader).GetAwaiter().GetResult();
            StandardStreams.WriteOutputAsync(Describe(plan.Schema.Schema, parse.GetValue(metadata)), CancellationToken.None).GetAwaiter().GetResult();
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>One line per field, nested fields indented, SAM types shown.</summary>
    public static string Describe(Schema schema, bool withMetadata)
    {
        var text = new StringBuilder();
        foreach (Field field in schema.FieldsList)
        {
            Append(text, field, 0);
        }

        if (withMetadata)
        {
            foreach ((string key, string value) in schema.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append("-- ").Append(key).Append(": ").Append(value.Replace("\n", "\n   ", StringComparison.Ordinal).TrimEnd()).Append('\n');
            }
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, Field field, int depth)
    {
        text.Append(' ', depth * 2).Append(field.Name).Append(": ").Append(TypeName(field.DataType));
        if (!field.IsNullable)
        {
            text.Append(" not null");
        }

        if (field.HasMetadata && field.Metadata.TryGetValue(BamColumns.SamTypeKey, out string? samType))
        {
            // A child renamed because another tag differs from it only in case shows its exact tag: (SAM nM:i).
            text.Append("  (SAM ");
            if (field.Metadata.TryGetValue(BamColumns.SamTagKey, out string? tag) && tag != field.Name)
            {
                text.Append(tag).Append(':');
            }

            text.Append(samType).Append(')');
        }

        text.Append('\n');
        if (field.DataType is StructType structType)
        {
            foreach (Field child in structType.Fields)
            {
                Append(text, child, depth + 1);
            }
        }
    }

    private static string TypeName(IArrowType type) => type switch
    {
        DictionaryType d => $"dictionary<values={TypeName(d.ValueType)}, indices={TypeName(d.IndexType)}>",
        ListType l => $"list<{TypeName(l.ValueDataType)}>",
        StructType => "struct",
        StringType => "string",
        FloatType => "float",
        _ => type.Name,
    };
}
