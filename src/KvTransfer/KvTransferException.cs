namespace PdServe.KvTransfer;

/// <summary>Why a received transfer cannot be used.</summary>
public enum KvTransferFailure
{
    /// <summary>A chunk's bytes do not match its checksum, or chunks are missing: the KV must not be used.</summary>
    DataLoss,
    /// <summary>The stream broke the contract: events out of order, sizes or positions that do not add up.</summary>
    Protocol,
    /// <summary>The sender runs other weights or another plan than the receiver.</summary>
    Incompatible,
}

/// <summary>A received KV transfer that must be refused; the message says what was wrong.</summary>
public sealed class KvTransferException(KvTransferFailure failure, string message) : Exception(message)
{
    public KvTransferFailure Failure { get; } = failure;
}
