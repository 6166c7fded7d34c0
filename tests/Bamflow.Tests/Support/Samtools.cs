using System.Diagnostics;

namespace Bamflow.Tests.Support;

/// <summary>Runs samtools, the oracle. Tests that need it fail with a clear message where it is missing.</summary>
public static class Samtools
{
    /// <summary>Starts samtools with <paramref name="arguments"/>; stdout is a stream the caller reads.</summary>
    public static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("samtools")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException("samtools did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("samtools is not installed (Debian: apt-get install samtools); the tests use it as the oracle", e);
        }
    }

    /// <summary>Runs samtools to completion and returns its exit code, stdout bytes and stderr text.</summary>
    public static (int ExitCode, byte[] Stdout, string Stderr) Run(byte[]? stdin, params string[] arguments)
    {
        using Process process = Start(arguments);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }

        process.StandardInput.Close();
        copy.Wait();
        process.WaitForExit();
        return (process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>Converts SAM text to BAM with samtools (no @PG line added).</summary>
    public static byte[] SamToBam(byte[] sam)
    {
        (int code, byte[] bam, string error) = Run(sam, "view", "--no-PG", "-b", "-o", "-", "-");
        Assert.True(code == 0, "samtools view -b failed: " + error);
        return bam;
    }
}
