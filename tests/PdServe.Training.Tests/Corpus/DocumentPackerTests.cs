using PdServe.Engine.Tokenization;
using PdServe.TestSupport;
using PdServe.Training.Corpus;

namespace PdServe.Training.Tests.Corpus;

public sealed class DocumentPackerTests
{
    private static TextTokenizer Tokenizer()
    {
        using var directory = new TempDirectory();
        TinyTokenizer.Write(directory.Path);
        return TextTokenizer.Load(directory.Path);
    }

    [Fact]
    public void Consecutive_documents_are_joined_in_order_without_passing_the_budget()
    {
        TextTokenizer tokenizer = Tokenizer();
        string[] chapters = Enumerable.Range(1, 12).Select(i => $"Verse one of chapter {i}.\nVerse two of chapter {i}.").ToArray();
        int chapterTokens = tokenizer.Encode(chapters[0], addSpecialTokens: false).Count;
        int budget = 3 * chapterTokens + 10;

        IReadOnlyList<string> packed = DocumentPacker.Pack(chapters, tokenizer, budget);

        Assert.Equal(string.Join('\n', chapters), string.Join('\n', packed)); // nothing lost, nothing reordered
        Assert.True(packed.Count < chapters.Length, "no two chapters were joined");
        Assert.All(packed, document => Assert.True(tokenizer.Encode(document, addSpecialTokens: false).Count + 2 <= budget,
            $"'{document}' passes the budget of {budget} tokens"));
        // Greedy: a document ends only where the next chapter would not have fitted.
        for (int d = 0; d + 1 < packed.Count; d++)
        {
            string nextChapter = packed[d + 1].Split('\n')[0] + "\n" + packed[d + 1].Split('\n')[1];
            int joined = tokenizer.Encode(packed[d] + "\n" + nextChapter, addSpecialTokens: false).Count + 2;
            Assert.True(joined > budget, $"document {d} could have taken the next chapter ({joined} <= {budget})");
        }
    }

    [Fact]
    public void A_document_longer_than_the_budget_stays_whole_and_alone()
    {
        TextTokenizer tokenizer = Tokenizer();
        string[] documents = ["short one", string.Join(' ', Enumerable.Repeat("a long document", 40)), "short two"];
        IReadOnlyList<string> packed = DocumentPacker.Pack(documents, tokenizer, maxTokens: 20);
        Assert.Equal(documents, packed);
    }
}
