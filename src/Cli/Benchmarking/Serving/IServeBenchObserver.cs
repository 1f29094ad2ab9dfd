namespace PdServe.Cli.Benchmarking.Serving;

/// <summary>Progress of a serving run, for the live progress display.</summary>
public interface IServeBenchObserver
{
    void RateStarted(string rate, int requests);
    void RequestFinished(string rate, RequestOutcome outcome);
    void RateFinished(RateResult result);
}
