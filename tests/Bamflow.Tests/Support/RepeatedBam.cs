namespace Bamflow.Tests.Support;

/// <summary>A fixture BAM concatenated with itself by <c>samtools cat</c>, in a temporary file deleted on dispose.</summary>
public sealed class RepeatedBam : IDisposable
{
    public RepeatedBam(string fixture, int copies)
    {
        string source = Conversion.Fixture(fixture);
        (int code, _, string stderr) = Samtools.Run(null, ["cat", "-o", Path, .. Enumerable.Repeat(source, copies)]);
        Assert.True(code == 0, stderr);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bamflow-repeated-{Guid.NewGuid():N}.bam");

    public void Dispose() => File.Delete(Path);
}
