using System.Globalization;
using System.Text;

namespace PdServe.NodeHosting;

/// <summary>
/// The node's load under vLLM's metric names, so routers written for vLLM can balance PdServe nodes. prometheus-net
/// refuses the colon in these names (valid in the exposition format, which reserves it for recording rules), so
/// they are written here and appended to the registry's output.
/// </summary>
public static class VllmMetricsText
{
    public static string Of(LoadReport load, string modelName)
    {
        string label = $"{{model_name=\"{Escape(modelName)}\"}}";
        var text = new StringBuilder();
        void Gauge(string name, string help, double value)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(" gauge\n");
            text.Append(name).Append(label).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        Gauge("vllm:num_requests_running", "Requests being processed (vLLM-compatible name)", load.Running);
        Gauge("vllm:num_requests_waiting", "Requests waiting to be processed (vLLM-compatible name)", load.Waiting);
        Gauge("vllm:kv_cache_usage_perc", "KV cache usage, 0..1 (vLLM-compatible name)", load.KvUsage);
        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
