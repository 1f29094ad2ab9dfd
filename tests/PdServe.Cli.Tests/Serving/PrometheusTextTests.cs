using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class PrometheusTextTests
{
    private const string Exposition = """
        # HELP pdserve_gateway_kv_transfer_bytes_total KV bytes
        # TYPE pdserve_gateway_kv_transfer_bytes_total counter
        pdserve_gateway_kv_transfer_bytes_total{kind="full"} 4718592
        pdserve_gateway_kv_transfer_bytes_total{kind="sent"} 1.179648e+06
        pdserve_gateway_kv_transfer_bytes_total_extra{kind="sent"} 99
        pdserve_gateway_requests_total{route="/v1/completions",status="200"} 12
        pdserve_gateway_requests_total{route="/v1/chat/completions",status="200"} 3
        pdserve_gateway_requests_total{route="/v1/completions",status="503"} 2
        pdserve_gateway_prompt_tokens_total 4608
        label_with_escapes{path="a\"b,c=d",kind="x"} 5
        """;

    [Fact]
    public void Reads_a_labelled_sample_in_either_number_format()
    {
        Assert.Equal(4718592, PrometheusText.Sum(Exposition, "pdserve_gateway_kv_transfer_bytes_total", new Dictionary<string, string> { ["kind"] = "full" }));
        // Not confused by a longer metric name that starts with the same characters.
        Assert.Equal(1179648, PrometheusText.Sum(Exposition, "pdserve_gateway_kv_transfer_bytes_total", new Dictionary<string, string> { ["kind"] = "sent" }));
    }

    [Fact]
    public void Sums_the_samples_a_label_filter_selects()
    {
        Assert.Equal(17, PrometheusText.Sum(Exposition, "pdserve_gateway_requests_total"));
        Assert.Equal(14, PrometheusText.Sum(Exposition, "pdserve_gateway_requests_total", new Dictionary<string, string> { ["route"] = "/v1/completions" }));
        Assert.Equal(4608, PrometheusText.Sum(Exposition, "pdserve_gateway_prompt_tokens_total"));
        Assert.Equal(5, PrometheusText.Sum(Exposition, "label_with_escapes", new Dictionary<string, string> { ["path"] = "a\"b,c=d", ["kind"] = "x" }));
    }

    [Fact]
    public void An_absent_metric_or_label_value_is_null()
    {
        Assert.Null(PrometheusText.Sum(Exposition, "vllm:num_requests_running"));
        Assert.Null(PrometheusText.Sum(Exposition, "pdserve_gateway_kv_transfer_bytes_total", new Dictionary<string, string> { ["kind"] = "int8" }));
    }
}
