using System.Net;
using System.Text.Json;
using Grpc.Core;
using PdServe.Contracts;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>Decode and prefill nodes that fail or die while the gateway serves.</summary>
public sealed class NodeFailureTests
{
    private static string Body(bool stream, int maxTokens = 100) =>
        JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = "In the", max_tokens = maxTokens, temperature = 0, stream });

    private static FakeDecodeNode NodeServing(TestCluster cluster, string responseId) =>
        cluster.Decode.Single(n => n.Calls.Any(c => c.Request.RequestId.StartsWith(responseId, StringComparison.Ordinal)));

    private static async Task<double> MetricAsync(TestCluster cluster, string name)
    {
        string text = await cluster.Http.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_decode_node_killed_mid_serve_ends_its_streams_cleanly_retries_unanswered_calls_and_leaves_the_pool()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { TokenDelay = TimeSpan.FromMilliseconds(40) };
        var victim = cluster.Decode[0];

        // Four streams (round robin: two per node), each read until its first text arrived.
        var streams = new List<SseStream>();
        for (int i = 0; i < 4; i++)
        {
            var stream = await SseStream.OpenAsync(cluster.Http, "/v1/completions", Body(stream: true));
            Assert.True(await stream.NextAsync());
            streams.Add(stream);
        }
        // Two non-streaming requests in flight, one per node; nothing of them has reached the client.
        var pending = Enumerable.Range(0, 2).Select(_ => cluster.PostAsync("/v1/completions", Body(stream: false))).ToList();
        await TestCluster.WaitUntilAsync(() => Task.FromResult(victim.Running >= 3), TimeSpan.FromSeconds(5), "the victim serves three calls");

        await victim.KillAsync();
        var left = await TestCluster.WaitUntilAsync(async () => !(await cluster.AvailableAsync("decode")).Contains(victim.Address),
            TimeSpan.FromSeconds(5), "the killed node leaves the decode pool");
        Assert.True(left < TimeSpan.FromSeconds(5));

        foreach (var stream in streams)
        {
            await stream.ReadToEndAsync();
            Assert.True(stream.Done, "every stream ends with [DONE]");
            if (NodeServing(cluster, stream.Id) == victim)
            {
                Assert.NotNull(stream.Error);
                Assert.NotEqual(FakeScript.GreedyText, stream.Text);
            }
            else
            {
                Assert.Null(stream.Error);
                Assert.Equal(FakeScript.GreedyText, stream.Text);
            }
            stream.Dispose();
        }
        foreach (var task in pending)
        {
            using var response = await task;
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(FakeScript.GreedyText, JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        for (int i = 0; i < 6; i++)
        {
            var response = await cluster.PostJsonAsync("/v1/completions", new { model = TestCluster.ModelId, prompt = "later", max_tokens = 5 });
            Assert.Equal(5, response.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }
        Assert.True(await MetricAsync(cluster, "pdserve_gateway_retries_total") >= 1);
    }

    [Fact]
    public async Task A_call_failing_before_its_first_token_is_retried_on_the_other_decode_node()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Decode[0].Behavior = new FakeDecodeBehavior { FailAfterTokens = 0 };

        for (int i = 0; i < 4; i++)
        {
            using var stream = await SseStream.OpenAsync(cluster.Http, "/v1/completions", Body(stream: i % 2 == 0));
            if (i % 2 == 0)
            {
                await stream.ReadToEndAsync();
                Assert.Null(stream.Error);
                Assert.Equal(FakeScript.GreedyText, stream.Text);
            }
            else
                Assert.Equal(200, stream.Status);
        }
        Assert.Equal(4, cluster.Decode[1].Calls.Count);
        Assert.NotEmpty(cluster.Decode[0].Calls);
        Assert.Equal(cluster.Decode[0].Calls.Count, await MetricAsync(cluster, "pdserve_gateway_retries_total"));
    }

    [Fact]
    public async Task A_stream_failing_after_its_first_token_ends_with_an_error_event_but_a_non_streaming_call_is_retried()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { DecodeNodes = 2 });
        cluster.Decode[0].Behavior = new FakeDecodeBehavior { FailAfterTokens = 3 };
        cluster.Decode[1].Behavior = new FakeDecodeBehavior { FailAfterTokens = 3 };

        using var stream = await SseStream.OpenAsync(cluster.Http, "/v1/completions", Body(stream: true));
        await stream.ReadToEndAsync();
        Assert.Equal(200, stream.Status);
        Assert.True(stream.Done);
        Assert.Equal("server_error", stream.Error?.GetProperty("type").GetString());
        Assert.NotEmpty(stream.Text);
        Assert.StartsWith(stream.Text, FakeScript.GreedyText);
        Assert.NotEqual(FakeScript.GreedyText, stream.Text);
        Assert.Equal(1, cluster.Decode.Sum(n => n.Calls.Count));

        // Nothing reached the client of a non-streaming request, so it is retried once, then fails with a status.
        using var response = await cluster.PostAsync("/v1/completions", Body(stream: false));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, cluster.Decode.Sum(n => n.Calls.Count));
    }

    [Fact]
    public async Task A_prefill_node_reported_unreachable_is_avoided_on_the_retry_and_leaves_its_pool()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 1,
            PrefillNodes = 2,
            // Long enough that the loaded CI machine cannot reactivate the nodes before the test looks.
            Settings = new Dictionary<string, string?> { ["ReverseProxy:Clusters:prefill:HealthCheck:Passive:ReactivationPeriod"] = "00:01:00" },
        });
        var decode = cluster.Decode[0];
        decode.Behavior = new FakeDecodeBehavior { Failure = new FakeFailure(StatusCode.Unavailable, FaultSide.Peer) };

        using var response = await cluster.PostAsync("/v1/completions", Body(stream: false));
        // One decode node, so the retry goes to it again, with the other prefill node's address.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var addresses = decode.Calls.Select(c => c.Request.PrefillAddress).ToList();
        Assert.Equal(2, addresses.Count);
        Assert.NotEqual(addresses[0], addresses[1]);
        // Both prefill nodes were reported unreachable, so the pool is empty until they are reactivated.
        await TestCluster.WaitUntilAsync(async () => (await cluster.AvailableAsync("prefill")).Count == 0, TimeSpan.FromSeconds(5),
            "both prefill nodes leave the pool");
        using var refused = await cluster.PostAsync("/v1/completions", Body(stream: false));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("no_healthy_node", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
    }

    [Fact]
    public async Task Full_decode_nodes_give_429_with_retry_after()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { Exhausted = true };
        using var response = await cluster.PostAsync("/v1/completions", Body(stream: true));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Equal(2, cluster.Decode.Sum(n => n.Calls.Count));
    }

    [Fact]
    public async Task A_full_queue_gives_429_and_the_gateway_recovers()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            Settings = new Dictionary<string, string?>
            {
                ["Gateway:Limits:MaxConcurrentRequests"] = "1",
                ["Gateway:Limits:MaxQueuedRequests"] = "0",
            },
        });
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { TokenDelay = TimeSpan.FromMilliseconds(20) };
        using var first = await SseStream.OpenAsync(cluster.Http, "/v1/completions", Body(stream: true));
        Assert.True(await first.NextAsync());

        using var refused = await cluster.PostAsync("/v1/completions", Body(stream: false));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());

        await first.ReadToEndAsync();
        using var later = await cluster.PostAsync("/v1/completions", Body(stream: false, maxTokens: 2));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }
}
