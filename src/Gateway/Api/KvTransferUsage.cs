using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>
/// bytes_full: an unpruned float32 transfer of the prompt; bytes_sent: what travelled; bytes_reused: what a transfer of
/// the whole prompt would have sent beyond that, saved because the decode node held reused_prompt_tokens of it already.
/// All 0 in unified mode (no transfer).
/// </summary>
public sealed record KvTransferUsage(
    [property: JsonPropertyName("bytes_full")] long BytesFull,
    [property: JsonPropertyName("bytes_sent")] long BytesSent,
    [property: JsonPropertyName("bytes_reused")] long BytesReused,
    [property: JsonPropertyName("reused_prompt_tokens")] int ReusedPromptTokens);
