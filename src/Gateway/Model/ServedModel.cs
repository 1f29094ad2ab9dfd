using PdServe.Engine.Loading;
using PdServe.Engine.Tokenization;

namespace PdServe.Gateway.Model;

/// <summary>
/// What the gateway knows of the model the nodes serve: its id, context length and tokenizer (with the chat
/// template). Read from config.json and the tokenizer files only; the weights are never opened.
/// </summary>
public sealed class ServedModel
{
    private readonly ModelConfig config;

    private ServedModel(string id, string directory, ModelConfig config, TextTokenizer tokenizer, DateTimeOffset created)
    {
        Id = id;
        Directory = directory;
        this.config = config;
        Tokenizer = tokenizer;
        Created = created;
    }

    public string Id { get; }
    public string Directory { get; }
    public TextTokenizer Tokenizer { get; }
    public DateTimeOffset Created { get; }
    public int ContextLength => config.MaxPositionEmbeddings;
    /// <summary>
    /// Token ids a prompt may hold: those both the tokenizer and the model's embedding know (config.json's
    /// <c>vocab_size</c> may be padded past the tokenizer, or a tokenizer may add tokens the model lacks).
    /// </summary>
    public int VocabSize => Math.Min(config.VocabSize, Tokenizer.VocabSize);

    /// <exception cref="ModelLoadException">The directory lacks config.json or usable tokenizer files.</exception>
    public static ServedModel Load(string directory, string? id)
    {
        string full = Path.GetFullPath(directory);
        var config = ModelConfig.Load(Path.Combine(full, ModelDirectory.ConfigFileName));
        var tokenizer = TextTokenizer.Load(full);
        string name = string.IsNullOrWhiteSpace(id) ? new DirectoryInfo(full).Name : id;
        return new ServedModel(name, full, config, tokenizer, File.GetLastWriteTimeUtc(Path.Combine(full, ModelDirectory.ConfigFileName)));
    }
}
