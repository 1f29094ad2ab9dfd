using System.Text.Json;
using PdServe.Cli.Benchmarking.Serving;

namespace PdServe.Cli.Tests.Serving;

public sealed class CompletionUsageTests
{
    private static CompletionUsage Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return CompletionUsage.Parse(document.RootElement);
    }

    [Fact]
    public void Reads_cached_tokens_and_the_kv_transfer_when_the_server_reports_them()
    {
        var usage = Parse("""
            {"prompt_tokens": 600, "completion_tokens": 64, "total_tokens": 664,
             "prompt_tokens_details": {"cached_tokens": 512},
             "kv_transfer": {"bytes_full": 4915200, "bytes_sent": 655360, "bytes_reused": 3932160, "reused_prompt_tokens": 480}}
            """);

        Assert.Equal(new CompletionUsage(600, 64, 512, new KvTransferUsage(4915200, 655360, 3932160, 480)), usage);
    }

    [Fact]
    public void Without_the_new_fields_only_the_token_counts_are_read()
    {
        Assert.Equal(new CompletionUsage(24, 8, null, null), Parse("""{"prompt_tokens": 24, "completion_tokens": 8, "total_tokens": 32}"""));
        // OpenAI's own shape with other details, and nulls where a server has nothing to say.
        Assert.Equal(new CompletionUsage(24, 8, null, null),
            Parse("""{"prompt_tokens": 24, "completion_tokens": 8, "prompt_tokens_details": {"audio_tokens": 0}, "kv_transfer": null}"""));
        Assert.Equal(new CompletionUsage(24, 8, 0, new KvTransferUsage(2048, 512, 0, 0)),
            Parse("""{"prompt_tokens": 24, "completion_tokens": 8, "prompt_tokens_details": {"cached_tokens": 0}, "kv_transfer": {"bytes_full": 2048, "bytes_sent": 512}}"""));
    }

    [Fact]
    public void Missing_token_counts_are_an_error()
    {
        Assert.Throws<KeyNotFoundException>(() => Parse("""{"completion_tokens": 8}"""));
    }
}
