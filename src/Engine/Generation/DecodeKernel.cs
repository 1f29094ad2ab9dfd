namespace PdServe.Engine.Generation;

/// <summary>What runs a decode step's forward pass.</summary>
public enum DecodeKernel
{
    /// <summary>The torch model (<see cref="Model.CausalLm.DecodeStep"/>).</summary>
    Torch,

    /// <summary>The fused C# step over packed weights (<see cref="FastPath.FastDecoder"/>).</summary>
    Fast,
}
