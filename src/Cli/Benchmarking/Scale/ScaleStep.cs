using PdServe.Cli.Cluster;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>One change of a pool by one node, and the pool sizes after it.</summary>
public sealed record ScaleStep(NodeRole Role, bool Add, int Prefill, int Decode)
{
    public override string ToString() =>
        $"{(Add ? "add" : "remove")} a {Role.ToString().ToLowerInvariant()} node → prefill {Prefill} + decode {Decode}";
}
