// The variables README.md's library example uses, from the command line: ReadmeLibrary <input.bam> <output.arrow>.
global using static Arguments;

/// <summary>The example's inputs.</summary>
internal static class Arguments
{
#pragma warning disable IDE1006 // named as the README example's local variables
    public static string inputPath => Environment.GetCommandLineArgs()[1];

    public static string outputPath => Environment.GetCommandLineArgs()[2];
#pragma warning restore IDE1006
}
