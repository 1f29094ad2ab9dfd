using System.Text.Json;
using PdServe.TestSupport;
using PdServe.Engine.Tokenization;

namespace PdServe.Engine.Tests.Tokenization;

internal sealed record FixtureCase(string Text, bool AddSpecialTokens, int[] Ids);

internal sealed record Fixture(string Tokenizer, string Source, string Reference, IReadOnlyList<FixtureCase> Cases);

internal static class TokenizerTestHelpers
{
    public static string Stories260k => RepoPaths.SharedModel("stories260k")!;

    // Read from the checkout (not copied to the output folder), so the test project file needs no item for them.
    public static string FixturesDirectory => RepoPaths.InRepo(Path.Combine("tests", "PdServe.Engine.Tests", "Fixtures", "tokenizers"))
        ?? throw new InvalidOperationException("repository root (PdServe.sln) not found above the test assembly");

    public static Fixture LoadFixture(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixturesDirectory, name + ".json")));
        var root = doc.RootElement;
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new FixtureCase(
            c.GetProperty("text").GetString()!,
            !c.TryGetProperty("addSpecialTokens", out var a) || a.GetBoolean(),
            c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray())).ToList();
        return new Fixture(root.GetProperty("tokenizer").GetString()!, root.GetProperty("source").GetString()!,
            root.GetProperty("reference").GetString()!, cases);
    }

    /// <summary>Encodes every case and fails with a list of all mismatches; returns the number of cases checked.</summary>
    public static int AssertMatchesFixture(TextTokenizer tokenizer, Fixture fixture)
    {
        Assert.NotEmpty(fixture.Cases);
        var failures = new List<string>();
        foreach (var c in fixture.Cases)
        {
            var ids = tokenizer.Encode(c.Text, c.AddSpecialTokens);
            if (!ids.SequenceEqual(c.Ids))
                failures.Add($"{JsonSerializer.Serialize(c.Text)} (addSpecialTokens={c.AddSpecialTokens}): expected [{string.Join(",", c.Ids)}], got [{string.Join(",", ids)}]");
        }
        Assert.True(failures.Count == 0,
            $"{failures.Count}/{fixture.Cases.Count} cases differ from {fixture.Reference} on {fixture.Source}:\n" + string.Join("\n", failures));
        return fixture.Cases.Count;
    }

    /// <summary>Copies a model directory to a temp folder, leaving out the named files.</summary>
    public static string CopyWithout(string source, params string[] leaveOut)
    {
        var dir = Directory.CreateTempSubdirectory("pdserve-tok-").FullName;
        foreach (var f in Directory.GetFiles(source))
        {
            var name = Path.GetFileName(f);
            if (leaveOut.Contains(name) || name.EndsWith(".safetensors", StringComparison.Ordinal)) continue;
            File.Copy(f, Path.Combine(dir, name));
        }
        return dir;
    }

    /// <summary>Streams ids one by one and checks chunks against the full decode.</summary>
    public static void AssertStreamingMatchesDecode(TextTokenizer tokenizer, IReadOnlyList<int> ids, bool skipSpecialTokens = true)
    {
        var stream = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens);
        var chunks = ids.Select(stream.Push).ToList();
        chunks.Add(stream.Flush());
        var full = tokenizer.Decode(ids, skipSpecialTokens);
        Assert.Equal(full, string.Concat(chunks));
        foreach (var chunk in chunks) Assert.DoesNotContain('\uFFFD', chunk);
        foreach (var chunk in chunks)
            if (chunk.Length > 0)
            {
                Assert.False(char.IsLowSurrogate(chunk[0]), "chunk starts with half a surrogate pair");
                Assert.False(char.IsHighSurrogate(chunk[^1]), "chunk ends with half a surrogate pair");
            }
    }
}
