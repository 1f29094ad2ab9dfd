using PdServe.Engine.Model;
using PdServe.Engine.Sampling;
using static TorchSharp.torch;

namespace PdServe.Engine.Generation;

/// <summary>
/// What an engine accepts, checked on the submitting thread before a request is queued: its prompt, its sampling and
/// sample count within the engine's limits, and a prompt prefilled elsewhere that fits this model's blocks.
/// </summary>
internal sealed class RequestValidator(CausalLm model, int maxContextTokens, int maxBatchSize)
{
    /// <exception cref="ArgumentException">The request is invalid; the message names the first problem.</exception>
    public void Validate(GenerationRequest request)
    {
        int vocab = model.Config.VocabSize;
        if (request.PromptTokenIds.Count == 0) throw new ArgumentException("the prompt has no tokens");
        foreach (int id in request.PromptTokenIds)
        {
            if (id < 0 || id >= vocab) throw new ArgumentException($"prompt token id {id} is outside the vocabulary [0, {vocab})");
        }
        if (request.PromptTokenIds.Count >= maxContextTokens)
            throw new ArgumentException(
                $"the prompt has {request.PromptTokenIds.Count} tokens; this engine's context is {maxContextTokens} tokens");
        if (request.SampleCount < 1 || request.SampleCount > maxBatchSize)
            throw new ArgumentException($"n must be between 1 and {maxBatchSize}, got {request.SampleCount}");
        request.Sampling.Validate(vocab);
    }

    /// <exception cref="ArgumentException">The prefilled KV or first tokens do not fit the request or this model.</exception>
    public void ValidatePrefilled(GenerationRequest request, PrefilledPrompt prompt)
    {
        var expected = model.Plan.RunBlocks;
        if (!prompt.Blocks.Order().SequenceEqual(expected))
            throw new ArgumentException($"the prefilled KV holds blocks [{string.Join(',', prompt.Blocks.Order())}]; this model runs [{string.Join(',', expected)}]");
        int promptLength = request.PromptTokenIds.Count;
        foreach (int block in expected)
        {
            (Tensor keys, Tensor values) = prompt[block];
            long[] shape = keys.shape;
            bool valid = shape.Length == 3 && shape[0] == model.Config.NumKvHeads && shape[2] == model.Config.HeadDim
                         && shape[1] >= 1 && shape[1] <= promptLength && values.shape.SequenceEqual(shape)
                         && keys.dtype == ScalarType.Float32 && values.dtype == ScalarType.Float32;
            if (!valid)
                throw new ArgumentException($"block {block}: prefilled keys/values must be float32 [{model.Config.NumKvHeads}, 1..{promptLength}, {model.Config.HeadDim}], got [{string.Join(',', shape)}] {keys.dtype}");
        }
        if (prompt.FirstTokens.Count != request.SampleCount)
            throw new ArgumentException($"{request.SampleCount} samples need {request.SampleCount} first tokens, got {prompt.FirstTokens.Count}");
        foreach (SampledToken token in prompt.FirstTokens)
        {
            if (token.TokenId < 0 || token.TokenId >= model.Config.VocabSize)
                throw new ArgumentException($"first token id {token.TokenId} is outside the vocabulary [0, {model.Config.VocabSize})");
        }
        if (request.Sampling.PromptLogprobs is not null && prompt.PromptScores?.Count != promptLength - 1)
            throw new ArgumentException($"the request asks for prompt logprobs: {promptLength - 1} prompt scores needed, got {prompt.PromptScores?.Count ?? 0}");
        if (!request.Sampling.IsGreedy && request.Sampling.Seed is null)
            throw new ArgumentException("a prefilled sampled request needs the seed its first tokens were drawn with");
    }
}
