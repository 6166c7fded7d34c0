namespace Bamflow.Cli;

/// <summary>The process exit codes, as bioinformatics tools use them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;      // bad input, I/O or runtime failure
    public const int Usage = 2;        // bad command line
    public const int Interrupted = 130; // SIGINT (128 + 2)
    public const int Terminated = 143;  // SIGTERM (128 + 15); other stopping signals exit 128 + their number (ProcessControl)
    public const int BrokenPipe = 141;  // SIGPIPE (128 + 13): the reader of the output went away
}
