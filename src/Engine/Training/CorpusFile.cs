namespace PdServe.Engine.Training;

/// <summary>
/// A text corpus as PdServe's trainer and evaluator read it: UTF-8 documents separated by one or more blank lines
/// (scripts/kjv-corpus.sh writes one Bible chapter per document). Line breaks inside a document are kept.
/// </summary>
public static class CorpusFile
{
    /// <exception cref="InvalidDataException">The file is missing or holds no text.</exception>
    public static IReadOnlyList<string> ReadDocuments(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"corpus file '{path}' does not exist");
        string text = File.ReadAllText(path).Replace("\r\n", "\n");
        var documents = new List<string>();
        foreach (string block in text.Split("\n\n"))
        {
            string document = block.Trim('\n');
            if (document.Trim().Length > 0) documents.Add(document);
        }
        if (documents.Count == 0) throw new InvalidDataException($"corpus file '{path}' holds no text");
        return documents;
    }
}
