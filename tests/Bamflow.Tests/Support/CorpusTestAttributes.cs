using System.Runtime.CompilerServices;
using Xunit.Sdk;
using Xunit.v3;

namespace Bamflow.Tests.Support;

/// <summary>
/// A fact that needs the corpus (<c>../shared</c>). Where the corpus is absent (and CI is not set) it is not
/// discovered at all, so that the run reports one skip for the whole corpus
/// (<c>CorpusPresenceTests.Corpus_Absent_OneSkipForEveryCorpusTest</c>) instead of one per test; under CI it runs
/// and fails in <see cref="SharedData.Require"/>.
/// </summary>
[XunitTestCaseDiscoverer(typeof(CorpusFactDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class CorpusFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : FactAttribute(sourceFilePath, sourceLineNumber);

/// <summary>A theory that needs the corpus for every row; discovered as <see cref="CorpusFactAttribute"/> says.</summary>
[XunitTestCaseDiscoverer(typeof(CorpusTheoryDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class CorpusTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : TheoryAttribute(sourceFilePath, sourceLineNumber);

/// <summary>Discovers a <see cref="CorpusFactAttribute"/> test as a fact, or not at all while the corpus is absent.</summary>
public sealed class CorpusFactDiscoverer : FactDiscoverer
{
    public override ValueTask<IReadOnlyCollection<IXunitTestCase>> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod, IFactAttribute factAttribute) =>
        SharedData.SkipsCorpusTests ? new([]) : base.Discover(discoveryOptions, testMethod, factAttribute);
}

/// <summary>Discovers a <see cref="CorpusTheoryAttribute"/> test as a theory, or not at all while the corpus is absent.</summary>
public sealed class CorpusTheoryDiscoverer : TheoryDiscoverer
{
    public override ValueTask<IReadOnlyCollection<IXunitTestCase>> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod, IFactAttribute factAttribute) =>
        SharedData.SkipsCorpusTests ? new([]) : base.Discover(discoveryOptions, testMethod, factAttribute);
}
