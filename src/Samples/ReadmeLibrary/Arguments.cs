// The variables README.md's library example uses, from the command line: ReadmeLibrary <input.bam> <output.arrow> [REGION…].
global using static Arguments;

/// <summary>The example's inputs.</summary>
internal static class Arguments
{
#pragma warning disable IDE1006 // named as the README example's local variables
    public static string inputPath => Environment.GetCommandLineArgs()[1];

    public static string outputPath => Environment.GetCommandLineArgs()[2];

    public static string[] regions => Environment.GetCommandLineArgs()[3..];
#pragma warning restore IDE1006
}
