namespace PdServe.Gateway.Metrics;

/// <summary>The pools' sizes now, read at every scrape for the pool gauges (routing knows them; metrics only reports).</summary>
public interface IPoolCensus
{
    IEnumerable<PoolSize> Count();
}
