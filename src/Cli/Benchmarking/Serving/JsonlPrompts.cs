using System.Text.Json;

namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>
/// The <c>jsonl:FILE</c> dataset: one JSON object per line, <c>{"prompt": "text" | [token ids], "max_tokens": N}</c>
/// (<c>max_tokens</c> optional, else <c>--output-len</c>). Lines are used in file order, from the start again when
/// more requests are asked for than the file holds.
/// </summary>
public static class JsonlPrompts
{
    public static IReadOnlyList<BenchPrompt> Load(string path, int defaultMaxTokens, int count)
    {
        var lines = new List<BenchPrompt>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            lines.Add(Parse(line, defaultMaxTokens, $"{path}:{number}"));
        }
        if (lines.Count == 0) throw new InvalidDataException($"{path} holds no prompts");
        return Enumerable.Range(0, count).Select(i => lines[i % lines.Count]).ToList();
    }

    private static BenchPrompt Parse(string line, int defaultMaxTokens, string where)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not JSON ({e.Message})");
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("prompt", out var prompt))
            throw new InvalidDataException($"{where}: expected an object with \"prompt\"");
        int maxTokens = defaultMaxTokens;
        if (root.TryGetProperty("max_tokens", out var max))
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out maxTokens) || maxTokens < 1)
                throw new InvalidDataException($"{where}: \"max_tokens\" must be an integer >= 1");
        }
        return prompt.ValueKind switch
        {
            JsonValueKind.String when prompt.GetString()!.Length > 0 => new BenchPrompt { Text = prompt.GetString(), MaxTokens = maxTokens },
            JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt.EnumerateArray().All(t => t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out _)) =>
                new BenchPrompt { TokenIds = prompt.EnumerateArray().Select(t => t.GetInt32()).ToArray(), MaxTokens = maxTokens },
            _ => throw new InvalidDataException($"{where}: \"prompt\" must be a non-empty string or a non-empty list of token ids"),
        };
    }
}
