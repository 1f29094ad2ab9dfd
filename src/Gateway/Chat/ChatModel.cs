using PdServe.Engine.Tokenization;

namespace PdServe.Gateway.Chat;

/// <summary>
/// What chat prompts need of the served model: its id (for the log) and its tokenizer, which encodes the prompt and
/// carries the chat template and the BOS/EOS tokens the template is rendered with.
/// </summary>
public sealed record ChatModel(string Id, TextTokenizer Tokenizer);
