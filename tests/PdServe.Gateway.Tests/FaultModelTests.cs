using System.Net;
using System.Text.Json;
using Grpc.Core;
using PdServe.Contracts;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>
/// The gateway's fault model, row by row: for each way a decode node can fail a call (a status with or without the
/// pdserve-fault trailer, or a cut connection), what the client gets, whether the call is retried, and which node —
/// only the one to blame, if any — leaves its pool. Error bodies never carry internal addresses.
/// </summary>
public sealed class FaultModelTests
{
    public enum Blamed { None, Decode, Prefill }

    /// <summary>One row: the failure, what the client gets when it is not overcome, whether it is retried, who is evicted.</summary>
    public sealed record Row(FakeFailure Failure, HttpStatusCode Status, string Code, bool Retried, Blamed Blamed)
    {
        public override string ToString() => Failure.ToString();
    }

    private static Row R(StatusCode code, FaultSide? side, HttpStatusCode status, string errorCode, bool retried, Blamed blamed) =>
        new(new FakeFailure(code, side), status, errorCode, retried, blamed);

    public static IEnumerable<object[]> Rows() => new[]
    {
        R(StatusCode.InvalidArgument, FaultSide.Request, HttpStatusCode.BadRequest, "invalid_request", false, Blamed.None),
        R(StatusCode.InvalidArgument, null, HttpStatusCode.BadRequest, "invalid_request", false, Blamed.None),
        R(StatusCode.InvalidArgument, FaultSide.Peer, HttpStatusCode.BadRequest, "invalid_request", false, Blamed.None),
        R(StatusCode.Internal, FaultSide.Request, HttpStatusCode.BadRequest, "invalid_request", false, Blamed.None),
        new Row(FakeFailure.Cut(), HttpStatusCode.ServiceUnavailable, "node_unavailable", true, Blamed.Decode),
        R(StatusCode.Unavailable, FaultSide.Self, HttpStatusCode.ServiceUnavailable, "node_unavailable", true, Blamed.Decode),
        R(StatusCode.Unavailable, null, HttpStatusCode.ServiceUnavailable, "node_unavailable", true, Blamed.Decode),
        R(StatusCode.Unavailable, FaultSide.Peer, HttpStatusCode.ServiceUnavailable, "node_unavailable", true, Blamed.Prefill),
        R(StatusCode.DeadlineExceeded, FaultSide.Peer, HttpStatusCode.ServiceUnavailable, "node_unavailable", true, Blamed.Prefill),
        R(StatusCode.ResourceExhausted, FaultSide.Self, HttpStatusCode.TooManyRequests, "overloaded", true, Blamed.None),
        R(StatusCode.ResourceExhausted, FaultSide.Peer, HttpStatusCode.TooManyRequests, "overloaded", true, Blamed.None),
        R(StatusCode.DataLoss, FaultSide.Peer, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.FailedPrecondition, FaultSide.Peer, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.FailedPrecondition, FaultSide.Self, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.Internal, FaultSide.Self, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.Internal, FaultSide.Peer, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.DeadlineExceeded, FaultSide.Self, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.Internal, null, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.DeadlineExceeded, null, HttpStatusCode.BadGateway, "node_failed", true, Blamed.None),
        R(StatusCode.Unauthenticated, FaultSide.Request, HttpStatusCode.BadGateway, "node_failed", false, Blamed.None),
    }.Select(r => new object[] { r });

    private static Task<TestCluster> StartAsync() => TestCluster.StartAsync(new TestCluster.Options
    {
        DecodeNodes = 2,
        PrefillNodes = 2,
        // Long enough that an evicted node is still out when the test looks, however loaded the machine.
        Settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:decode:HealthCheck:Passive:ReactivationPeriod"] = "00:01:00",
            ["ReverseProxy:Clusters:prefill:HealthCheck:Passive:ReactivationPeriod"] = "00:01:00",
        },
    });

    private static string Body(bool stream) =>
        JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = "In the", max_tokens = 100, temperature = 0, stream });

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_failure_that_persists_gives_its_status_and_code_and_evicts_only_the_node_to_blame(Row row)
    {
        await using var cluster = await StartAsync();
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { Failure = row.Failure };

        using var response = await cluster.PostAsync("/v1/completions", Body(stream: false));
        string body = await response.Content.ReadAsStringAsync();

        Assert.True(row.Status == response.StatusCode, $"expected {(int)row.Status}, got {(int)response.StatusCode} {body}");
        var error = AssertCleanError(body, row.Code);
        if (row.Code != "invalid_request") Assert.Contains("cmpl-", error.GetProperty("message").GetString());
        Assert.Equal(row.Retried ? 2 : 1, cluster.Decode.Sum(n => n.Calls.Count));
        await AssertOnlyBlamedNodesLeftAsync(cluster, row.Blamed);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_failure_of_one_call_is_overcome_by_the_retry_unless_the_request_caused_it(Row row)
    {
        await using var cluster = await StartAsync();
        var once = row.Failure with { Calls = 1 };
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { Failure = once };

        using var response = await cluster.PostAsync("/v1/completions", Body(stream: false));
        string body = await response.Content.ReadAsStringAsync();

        if (row.Retried)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(FakeScript.GreedyText, JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            var calls = cluster.Decode.SelectMany(n => n.Calls).ToList();
            Assert.Equal(2, calls.Count);
            // The retry goes to the other decode node and the other prefill node.
            Assert.All(cluster.Decode, n => Assert.Single(n.Calls));
            Assert.NotEqual(calls[0].Request.PrefillAddress, calls[1].Request.PrefillAddress);
        }
        else
        {
            Assert.Equal(row.Status, response.StatusCode);
            AssertCleanError(body, row.Code);
            Assert.Equal(1, cluster.Decode.Sum(n => n.Calls.Count));
        }
        await AssertOnlyBlamedNodesLeftAsync(cluster, row.Blamed);
    }

    public static IEnumerable<object[]> StreamRows() => new[]
    {
        new Row(FakeFailure.Cut() with { AfterTokens = 3 }, HttpStatusCode.OK, "node_unreachable", false, Blamed.Decode),
        new Row(new FakeFailure(StatusCode.Unavailable, FaultSide.Self) { AfterTokens = 3 }, HttpStatusCode.OK, "node_unavailable", false, Blamed.Decode),
        new Row(new FakeFailure(StatusCode.Unavailable, FaultSide.Peer) { AfterTokens = 3 }, HttpStatusCode.OK, "node_unavailable", false, Blamed.Prefill),
        new Row(new FakeFailure(StatusCode.InvalidArgument, FaultSide.Request) { AfterTokens = 3 }, HttpStatusCode.OK, "invalid_request", false, Blamed.None),
        new Row(new FakeFailure(StatusCode.Internal, FaultSide.Self) { AfterTokens = 3 }, HttpStatusCode.OK, "node_failed", false, Blamed.None),
    }.Select(r => new object[] { r });

    [Theory]
    [MemberData(nameof(StreamRows))]
    public async Task A_stream_failing_after_output_reached_the_client_is_not_retried_and_ends_with_a_clean_error_event(Row row)
    {
        await using var cluster = await StartAsync();
        var failure = row.Failure with { Trigger = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { Failure = failure };

        using var stream = await SseStream.OpenAsync(cluster.Http, "/v1/completions", Body(stream: true));
        // Output reached the client before the node fails: from here no retry is possible.
        Assert.True(await stream.NextAsync());
        failure.Trigger!.SetResult();
        await stream.ReadToEndAsync();

        Assert.Equal((int)row.Status, stream.Status);
        Assert.True(stream.Done);
        Assert.NotEmpty(stream.Text);
        Assert.NotNull(stream.Error);
        Assert.Equal(row.Code, stream.Error.Value.GetProperty("code").GetString());
        AssertNoAddresses(stream.Error.Value.GetRawText());
        Assert.Equal(1, cluster.Decode.Sum(n => n.Calls.Count));
        await AssertOnlyBlamedNodesLeftAsync(cluster, row.Blamed);
    }

    [Fact]
    public async Task A_storm_of_poison_requests_gets_400s_and_leaves_both_pools_whole_and_other_clients_served()
    {
        await using var cluster = await StartAsync();
        const int poison = 7;
        var failure = new FakeFailure(StatusCode.InvalidArgument, FaultSide.Request, "the request produced non-finite logits") { PromptToken = poison };
        foreach (var node in cluster.Decode) node.Behavior = new FakeDecodeBehavior { Failure = failure };

        string Request(int first) => JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = new[] { first, 20, 21 }, max_tokens = 5, temperature = 0 });
        var poisoned = Enumerable.Range(0, 20).Select(_ => cluster.PostAsync("/v1/completions", Request(poison))).ToList();
        var healthy = Enumerable.Range(0, 20).Select(_ => cluster.PostAsync("/v1/completions", Request(30))).ToList();

        foreach (var task in poisoned)
        {
            using var response = await task;
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            var error = AssertCleanError(body, "invalid_request");
            Assert.Contains("non-finite logits", error.GetProperty("message").GetString());
        }
        foreach (var task in healthy)
        {
            using var response = await task;
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(20, cluster.Decode.Sum(n => n.Calls.Count(c => c.Failed)));
        Assert.Equal(40, cluster.Decode.Sum(n => n.Calls.Count));
        await AssertOnlyBlamedNodesLeftAsync(cluster, Blamed.None);
        Assert.Equal(2, (await cluster.AvailableAsync("decode")).Count);
        Assert.Equal(2, (await cluster.AvailableAsync("prefill")).Count);
    }

    [Fact]
    public async Task A_request_faults_detail_reaches_the_client_without_the_addresses_a_node_put_in_it()
    {
        await using var cluster = await StartAsync();
        foreach (var node in cluster.Decode)
            node.Behavior = new FakeDecodeBehavior
            {
                Failure = new FakeFailure(StatusCode.InvalidArgument, FaultSide.Request,
                    "n must be at most 4 on http://127.0.0.1:8201/x, [::1]:8201 or 10.1.2.3:99"),
            };
        using var response = await cluster.PostAsync("/v1/completions", Body(stream: false));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string message = AssertCleanError(body, "invalid_request").GetProperty("message").GetString()!;
        Assert.Contains("n must be at most 4 on", message);
        Assert.DoesNotContain("8201", message);
        Assert.DoesNotContain("10.1.2.3", message);
    }

    private static JsonElement AssertCleanError(string body, string code)
    {
        AssertNoAddresses(body);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        string message = error.GetProperty("message").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        // Only a request fault passes the node's detail on (it describes the request); nothing else the node said.
        if (code != "invalid_request") Assert.DoesNotContain("Exception", message);
        return error;
    }

    private static void AssertNoAddresses(string body)
    {
        Assert.DoesNotContain("http://", body);
        Assert.DoesNotContain("127.0.0.1", body);
        Assert.DoesNotContain("10.0.0.7", body);
    }

    /// <summary>Exactly the nodes to blame for the failed calls are out of their pools; every other node is available.</summary>
    private static async Task AssertOnlyBlamedNodesLeftAsync(TestCluster cluster, Blamed blamed)
    {
        var failed = cluster.Decode.SelectMany(n => n.Calls.Where(c => c.Failed).Select(c => (Node: n, c.Request))).ToList();
        Assert.NotEmpty(failed);
        var outDecode = blamed == Blamed.Decode ? failed.Select(f => f.Node.Address).ToHashSet() : [];
        var outPrefill = blamed == Blamed.Prefill ? failed.Select(f => f.Request.PrefillAddress).ToHashSet() : [];

        var availableDecode = await cluster.AvailableAsync("decode");
        var availablePrefill = await cluster.AvailableAsync("prefill");
        Assert.Equal(cluster.Decode.Select(n => n.Address).Where(a => !outDecode.Contains(a)).Order(), availableDecode.Order());
        Assert.Equal(cluster.Prefill.Select(n => n.Address).Where(a => !outPrefill.Contains(a)).Order(), availablePrefill.Order());
    }
}
