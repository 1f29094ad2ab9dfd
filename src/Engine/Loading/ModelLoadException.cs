namespace PdServe.Engine.Loading;

/// <summary>
/// A model directory that cannot be used: names the file (and tensor, when one is at fault) so the
/// user can fix the input instead of reading a stack trace from deep inside torch.
/// </summary>
public sealed class ModelLoadException(string file, string problem, string? tensor = null)
    : Exception(tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}")
{
    public string File { get; } = file;
    public string? Tensor { get; } = tensor;
}
