using System.CommandLine;
using System.Runtime.InteropServices;
using Bamflow.Cli;

// bamflow: parse (System.CommandLine), run one command, return an exit code.
AddressSpaceSetup.RestartIfLimited(); // under `ulimit -v`: once, before anything else
using var interrupt = new CancellationTokenSource();
int signalExit = 0;
void Stop(int code)
{
    if (Interlocked.CompareExchange(ref signalExit, code, 0) == 0)
    {
        interrupt.Cancel();
    }
}

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // let the pipeline stop and clean up
    Stop(ExitCodes.Interrupted);
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Stop(ExitCodes.Terminated);
});

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

int code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupt.Token);
return signalExit != 0 ? signalExit : code;
