using System.CommandLine;
using Bamflow.Cli;

// bamflow: parse (System.CommandLine), run one command, return an exit code.
AddressSpaceSetup.RestartIfLimited(); // under `ulimit -v`: once, before anything else
StandardStreams.Repair();
using IDisposable signals = ProcessControl.HandleSignals();

RootCommand root = Commands.Build();
ParseResult parse = root.Parse(args);
List<string> usageErrors = UsageErrors.Describe(parse);
if (usageErrors.Count > 0)
{
    foreach (string error in usageErrors)
    {
        Console.Error.WriteLine($"bamflow: {error}");
    }

    Console.Error.WriteLine("Try 'bamflow --help' for more information.");
    return ExitCodes.Usage;
}

int code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, ProcessControl.Stopping);
return ProcessControl.SignalExitCode is not 0 and int signalExit ? signalExit : code;
