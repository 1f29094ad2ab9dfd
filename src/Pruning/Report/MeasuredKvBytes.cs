namespace PdServe.Pruning.Report;

/// <summary>
/// KV bytes of one request measured through a running cluster (<c>pdserve up --plan</c>): what the decode node reported
/// for a prompt of <see cref="PromptTokens"/> tokens — an unpruned float32 transfer's size and what travelled.
/// </summary>
public sealed record MeasuredKvBytes(string Configuration, int PromptTokens, long BytesFull, long BytesSent)
{
    public double Reduction => BytesSent == 0 ? 0 : (double)BytesFull / BytesSent;
}
