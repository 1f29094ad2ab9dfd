namespace PdServe.NodeHosting;

/// <summary>Whether a node's model is loaded, and why loading failed if it did. /healthz answers from it.</summary>
public sealed class NodeReadiness
{
    private readonly TaskCompletionSource loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => loaded.Task.IsCompletedSuccessfully;

    /// <summary>Completes when the model is loaded; faults with the loading error.</summary>
    public Task Loaded => loaded.Task;

    public void MarkReady() => loaded.TrySetResult();

    public void MarkFailed(Exception error) => loaded.TrySetException(error);
}
