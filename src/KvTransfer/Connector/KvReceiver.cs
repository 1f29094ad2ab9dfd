using PdServe.Contracts;
using PdServe.KvTransfer.Wire;

namespace PdServe.KvTransfer.Connector;

/// <summary>
/// The receiving half of one transfer, on the decode node: refuses a header from other weights, another plan or
/// another KV shape (<see cref="KvTransferFailure.Incompatible"/>), places each chunk while hashing it
/// (<see cref="KvAssembler"/>), and on the trailer checks the first tokens and every checksum before decoding
/// anything. Throws <see cref="KvTransferException"/> for anything the sender got wrong, nothing else.
/// </summary>
public sealed class KvReceiver
{
    private readonly ExpectedKv expected;
    private readonly KvAssembler assembler;

    public KvReceiver(KvHeader header, ExpectedKv expected)
    {
        this.expected = expected;
        if (!string.Equals(header.ModelFingerprint, expected.ModelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new KvTransferException(KvTransferFailure.Incompatible, "weights differ from this decode node's");
        if (!string.Equals(header.PlanFingerprint, expected.PlanFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new KvTransferException(KvTransferFailure.Incompatible, "plan differs from this decode node's");
        if (header.KvHeads != expected.KvHeads || header.HeadDim != expected.HeadDim)
            throw new KvTransferException(KvTransferFailure.Incompatible,
                $"KV shape [{header.KvHeads} heads × {header.HeadDim}] differs from this model's [{expected.KvHeads} × {expected.HeadDim}]");
        assembler = new KvAssembler(header, expected.Layers, expected.MaxChunkBytes, expected.PromptTokens, expected.ReusedPrefixTokens);
    }

    public void Accept(KvChunk chunk) => assembler.Accept(chunk);

    /// <summary>Verifies the transfer against the trailer and decodes every layer into float32.</summary>
    public ReceivedKv Complete(KvTrailer trailer)
    {
        CheckFirstTokens(trailer);
        return new ReceivedKv(assembler.Complete(trailer), trailer);
    }

    /// <summary>One first token per sample, each a token of this model: the engine must never see the sender's mistakes.</summary>
    private void CheckFirstTokens(KvTrailer trailer)
    {
        int vocabSize = expected.VocabSize;
        var indices = trailer.FirstTokens.Select(t => t.SampleIndex).Order().ToArray();
        if (!indices.SequenceEqual(Enumerable.Range(0, expected.Samples)))
            throw new KvTransferException(KvTransferFailure.Protocol,
                $"first tokens for samples [{string.Join(',', indices)}] of a request for {expected.Samples}");
        foreach (FirstToken token in trailer.FirstTokens)
        {
            if (token.TokenId < 0 || token.TokenId >= vocabSize || token.TopLogprobs.Any(t => t.TokenId < 0 || t.TokenId >= vocabSize))
                throw new KvTransferException(KvTransferFailure.Protocol, $"sample {token.SampleIndex}'s first token is outside the vocabulary [0, {vocabSize})");
        }
    }
}
