using PdServe.Engine.Generation;
using PdServe.Contracts;

namespace PdServe.Decode.Transfer;

/// <summary>A prompt's KV received from a prefill node and verified, ready for the engine, with what the transfer cost.</summary>
public sealed record PulledPrompt(PrefilledPrompt Prompt, KvTrailer Trailer, double TransferSeconds);
