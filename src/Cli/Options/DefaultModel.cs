namespace PdServe.Cli.Options;

/// <summary>
/// The embedded default model (models/kjv-llama, trained by `pdserve train` on the King James Bible): what every
/// command serves when --model is not given, found in the checkout (<see cref="CheckoutFile"/>).
/// </summary>
public static class DefaultModel
{
    public const string RelativePath = "models/kjv-llama";

    /// <summary>The default model's directory; when no checkout holds it, the relative path, which then fails to load with a clear error.</summary>
    public static string Resolve()
    {
        if (CheckoutFile.Find(Path.Combine(RelativePath, "config.json")) is { } config) return Path.GetDirectoryName(config)!;
        // Not an exception: help output evaluates defaults too.
        return RelativePath;
    }

    /// <summary>The --model option shared by the commands that load a model: optional, defaulting to this model.</summary>
    public static System.CommandLine.Option<string> Option(string description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json)") =>
        new System.CommandLine.Option<string>("--model")
        {
            Description = $"{description}; default: the embedded {RelativePath}",
            HelpName = "DIR",
            DefaultValueFactory = _ => Resolve(),
        }.ExistingDirectory();
}
