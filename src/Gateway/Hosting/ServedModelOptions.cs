namespace PdServe.Gateway.Hosting;

/// <summary>Which model the gateway serves (configuration section <c>Gateway</c>).</summary>
public sealed class ServedModelOptions
{
    /// <summary>Hugging Face model directory; the gateway reads only its config and tokenizer files, never weights.</summary>
    public string ModelDirectory { get; set; } = "";

    /// <summary>The id clients pass as <c>model</c>; empty means the model directory's name.</summary>
    public string ModelName { get; set; } = "";
}
