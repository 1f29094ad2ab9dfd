namespace LlamaCppPeer.Gguf;

/// <summary>
/// The type tags GGUF writes before a metadata value, numbered as the format (version 3) numbers them; only the
/// ones the llama metadata needs.
/// </summary>
public enum GgufValueType : uint
{
    UInt32 = 4,
    Float32 = 6,
    String = 8,
}
