namespace PdServe.Engine.Planning;

/// <summary>The element type KV travels in between nodes; the decode node stores it back as float32.</summary>
public enum KvWireDtype
{
    Float32,
    BFloat16,
    /// <summary>Symmetric int8 with one float32 scale per channel (head dimension) per layer and tensor.</summary>
    Int8,
}
