using System.CommandLine;
using Bamflow.Cli;

// bamflow: parse (System.CommandLine), run one command, return an exit code.
StandardStreams.Repair();
using IDisposable signals = ProcessControl.HandleSignals();

RootCommand root = Commands.Build();
ParseResult parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"bamflow: {error.Message}");
    }

    Console.Error.WriteLine("Try 'bamflow --help' for more information.");
    return ExitCodes.Usage;
}

int code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, ProcessControl.Stopping);
return ProcessControl.SignalExitCode is not 0 and int signalExit ? signalExit : code;
