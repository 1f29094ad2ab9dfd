using System.Security.Cryptography;
using System.Text;

namespace PdServe.Training.Corpus;

/// <summary>
/// A UTF-8 text file of documents separated by blank lines: training, evaluation and calibration text
/// (scripts/kjv-corpus.sh writes one Bible chapter per document). Line breaks inside a document are kept.
/// </summary>
public sealed class TextDocuments
{
    private TextDocuments(string path, IReadOnlyList<string> documents, string sha256)
    {
        Path = path;
        Documents = documents;
        Sha256 = sha256;
    }

    public string Path { get; }
    public IReadOnlyList<string> Documents { get; }
    /// <summary>Lowercase hex SHA-256 of the file's bytes: the plan records which calibration text it came from.</summary>
    public string Sha256 { get; }

    /// <exception cref="InvalidDataException">The file is missing or holds no text.</exception>
    public static TextDocuments Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"text file '{path}' does not exist");
        byte[] bytes = File.ReadAllBytes(path);
        string text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(bytes).TrimStart('\uFEFF').Replace("\r\n", "\n");
        var documents = new List<string>();
        var current = new StringBuilder();
        foreach (string line in text.Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }
            if (current.Length > 0) current.Append('\n');
            current.Append(line);
        }
        Flush();
        if (documents.Count == 0) throw new InvalidDataException($"text file '{path}' is empty");
        return new TextDocuments(System.IO.Path.GetFullPath(path), documents, Convert.ToHexStringLower(SHA256.HashData(bytes)));

        void Flush()
        {
            if (current.Length > 0) documents.Add(current.ToString());
            current.Clear();
        }
    }
}
