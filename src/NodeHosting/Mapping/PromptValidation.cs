using Grpc.Core;
using PdServe.Contracts;

namespace PdServe.NodeHosting.Mapping;

/// <summary>
/// The one check of a request's prompt and sample count both nodes make before any work, against their
/// <see cref="RequestLimits"/>. A failure is INVALID_ARGUMENT blamed on the request, naming the first problem.
/// </summary>
public static class PromptValidation
{
    /// <summary>The number of samples the request asks for (0 on the wire means 1).</summary>
    public static int Validate(IReadOnlyList<int> promptTokenIds, int n, RequestLimits limits)
    {
        int promptLength = promptTokenIds.Count;
        if (promptLength == 0) throw Invalid("the prompt has no tokens");
        if (promptLength >= limits.ContextTokens)
            throw Invalid($"the prompt has {promptLength} tokens; this node's context is {limits.ContextTokens}");
        foreach (int id in promptTokenIds)
        {
            if (id < 0 || id >= limits.VocabSize) throw Invalid($"prompt token id {id} is outside the vocabulary [0, {limits.VocabSize})");
        }
        int samples = n == 0 ? 1 : n;
        if (samples < 1 || samples > limits.MaxSamples) throw Invalid($"n must be between 1 and {limits.MaxSamples}, got {n}");
        return samples;
    }

    private static RpcException Invalid(string message) => NodeFault.Error(StatusCode.InvalidArgument, message, FaultSide.Request);
}
