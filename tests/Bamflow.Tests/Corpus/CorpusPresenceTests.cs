using System.Reflection;
using Bamflow.Tests.Support;

namespace Bamflow.Tests.Corpus;

/// <summary>
/// Where <c>../shared</c> is absent, the tests marked <see cref="CorpusFactAttribute"/> and
/// <see cref="CorpusTheoryAttribute"/> are not discovered; this one test stands for them, as one skip.
/// </summary>
public sealed class CorpusPresenceTests
{
    [Fact]
    public void Corpus_Absent_OneSkipForEveryCorpusTest()
    {
        MethodInfo[] corpusTests =
        [
            .. typeof(CorpusPresenceTests).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                .Where(m => m.IsDefined(typeof(CorpusFactAttribute)) || m.IsDefined(typeof(CorpusTheoryAttribute))),
        ];
        Assert.NotEmpty(corpusTests);
        if (SharedData.Root is null)
        {
            if (SharedData.InCi)
            {
                SharedData.Require(); // fails: CI must run the corpus tests
            }

            int classes = corpusTests.Select(m => m.DeclaringType).Distinct().Count();
            Assert.Skip($"{SharedData.AbsentMessage}: {corpusTests.Length} corpus tests in {classes} classes not run");
        }

        Assert.NotEmpty(SharedData.CorpusFiles(bad: false));
        Assert.All(SharedData.CorpusFiles(bad: false), name => Assert.True(File.Exists(SharedData.CorpusPath(name)), $"MANIFEST.tsv lists {name}, which is missing"));
    }
}
