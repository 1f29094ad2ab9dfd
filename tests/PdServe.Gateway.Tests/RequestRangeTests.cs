using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdServe.Contracts;

namespace PdServe.Gateway.Tests;

/// <summary>
/// The gateway's validation against what the nodes accept, property style: over each field's accepted range
/// (bounds and seeded random draws) every value reaches the decode node as the node's wire type holds it; every value
/// the nodes would refuse is refused first, with a 400 naming the field, so no valid-looking request fails on a node.
/// </summary>
public sealed class RequestRangeTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private const int Draws = 12;
    private const int MaxN = 8;
    private const int MaxTopLogprobs = 20;
    private static readonly int ContextLength = PdServe.TestSupport.TinyCheckpoint.DefaultConfig().MaxPositionEmbeddings;
    private static readonly int VocabSize = PdServe.TestSupport.TinyTokenizer.VocabSize;

    /// <summary>
    /// One field: where it is sent (with what else), what the node receives for it, values accepted with what the node
    /// must see, and values refused.
    /// </summary>
    private sealed record Field(
        string Name,
        Func<GenerateRequest, object> Received,
        IEnumerable<(JsonNode Value, object Expected)> Accepted,
        IEnumerable<JsonNode> Refused,
        bool Chat = false);

    private static IEnumerable<double> Uniform(Random random, double min, double max) =>
        Enumerable.Range(0, Draws).Select(_ => min + random.NextDouble() * (max - min));

    private static IEnumerable<long> UniformLong(Random random, long min, long max) =>
        Enumerable.Range(0, Draws).Select(_ => random.NextInt64(min, max));

    private static JsonNode J<T>(T value) => JsonValue.Create(value)!;

    /// <summary>max_tokens room after the base prompt "hello" (BOS + its tokens) in the tiny model's context.</summary>
    private int Room => ContextLength - fixture.Cluster.Tokenizer.Encode("hello").Count;

    private Field Definition(string name)
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        return name switch
        {
            "temperature" => new Field(name, r => r.Sampling.Temperature,
                new double[] { 0, 1e-40, 1e-30, 1e-6, 0.5, 1, 2 }.Concat(Uniform(random, 0, 2)).Select(v => (J(v), (object)(float)v)),
                [J(-1e-9), J(-1), J(2.000001), J(3), J(1e300), J("hot"), J(true)]),
            "top_p" => new Field(name, r => r.Sampling.TopP,
                new double[] { 1e-44, 1e-30, 1e-6, 0.5, 1 }.Concat(Uniform(random, 1e-9, 1)).Select(v => (J(v), (object)(float)v)),
                [J(0), J(-0.5), J(1e-50), J(1.000001), J(2), J("all")]),
            "top_k" => new Field(name, r => r.Sampling.TopK,
                new long[] { -1, 0, 1, 50, int.MaxValue }.Concat(UniformLong(random, 0, int.MaxValue))
                    .Select(v => (J(v), (object)(v == -1 ? 0 : (int)v))),
                [J(-2), J(-100), J(1.5), J((long)int.MaxValue + 1), J("5")]),
            "n" => new Field(name, r => r.N,
                Enumerable.Range(1, MaxN).Select(v => (J(v), (object)v)),
                [J(0), J(-1), J(MaxN + 1), J(1.5), J("2")]),
            "logprobs" => new Field(name, r => r.Sampling.TopLogprobs,
                Enumerable.Range(0, MaxTopLogprobs + 1).Select(v => (J(v), (object)v)),
                [J(-1), J(MaxTopLogprobs + 1), J(1000), J(0.5), J(true)]),
            "top_logprobs" => new Field(name, r => r.Sampling.TopLogprobs,
                Enumerable.Range(0, MaxTopLogprobs + 1).Select(v => (J(v), (object)v)),
                [J(-1), J(MaxTopLogprobs + 1), J(2.5)], Chat: true),
            "seed" => new Field(name, r => r.Sampling.HasSeed ? r.Sampling.Seed : "none",
                new[] { 0L, 1L, -1L, long.MinValue, long.MaxValue }.Concat(UniformLong(random, long.MinValue, long.MaxValue))
                    .Select(v => (J(v), (object)unchecked((ulong)v))),
                [J(1.5), J("7"), J(ulong.MaxValue), J(1e30)]),
            "max_tokens" => new Field(name, r => r.Sampling.MaxTokens,
                new long[] { 1, 2, Room }.Concat(UniformLong(random, 1, Room + 1)).Select(v => (J(v), (object)(int)v)),
                [J(0), J(-1), J(Room + 1), J(4097), J(1.5), J("3")]),
            "prompt" => new Field(name, r => string.Join(',', r.PromptTokenIds),
                new[] { new[] { 0 }, [VocabSize - 1], [0, VocabSize - 1] }
                    .Concat(Enumerable.Range(0, Draws).Select(_ => Enumerable.Range(0, random.Next(1, 40)).Select(_ => random.Next(VocabSize)).ToArray()))
                    .Select(ids => ((JsonNode)new JsonArray(ids.Select(i => J(i)).ToArray()), (object)string.Join(',', ids))),
                [new JsonArray(J(-1)), new JsonArray(J(VocabSize)), new JsonArray(J(5), J(VocabSize + 1000)), new JsonArray(J(1.5)),
                 new JsonArray(J((long)int.MaxValue + 1))]),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
    }

    public static IEnumerable<object[]> Fields() =>
        new[] { "temperature", "top_p", "top_k", "n", "logprobs", "top_logprobs", "seed", "max_tokens", "prompt" }.Select(f => new object[] { f });

    private static JsonObject Body(Field field, JsonNode value)
    {
        var body = field.Chat
            ? new JsonObject { ["model"] = TestCluster.ModelId, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }), ["logprobs"] = true }
            : new JsonObject { ["model"] = TestCluster.ModelId, ["prompt"] = "hello" };
        if (field.Name != "max_tokens") body["max_tokens"] = 2;
        body[field.Name] = value.DeepClone();
        return body;
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task Every_accepted_value_reaches_the_decode_node_as_sent(string name)
    {
        var field = Definition(name);
        int checkedValues = 0;
        foreach (var (value, expected) in field.Accepted)
        {
            var body = Body(field, value);
            using var response = await fixture.Cluster.PostAsync(field.Chat ? "/v1/chat/completions" : "/v1/completions", body.ToJsonString());
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}={value.ToJsonString()}: {(int)response.StatusCode} {text}");
            string id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            var call = fixture.Cluster.Decode.SelectMany(n => n.Calls).Single(c => c.Request.RequestId.StartsWith(id, StringComparison.Ordinal));
            Assert.True(Equals(expected, field.Received(call.Request)),
                $"{name}={value.ToJsonString()}: the node received {field.Received(call.Request)}, expected {expected}");
            checkedValues++;
        }
        Assert.True(checkedValues >= 5, $"only {checkedValues} accepted values of {name} were tried");
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task Every_value_the_nodes_would_refuse_gets_a_400_naming_the_field(string name)
    {
        var field = Definition(name);
        int callsBefore = fixture.Cluster.Decode.Sum(n => n.Calls.Count);
        foreach (var value in field.Refused)
        {
            var body = Body(field, value);
            using var response = await fixture.Cluster.PostAsync(field.Chat ? "/v1/chat/completions" : "/v1/completions", body.ToJsonString());
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}={value.ToJsonString()}: {(int)response.StatusCode} {text}");
            Assert.Equal(name, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
        }
        Assert.Equal(callsBefore, fixture.Cluster.Decode.Sum(n => n.Calls.Count));
    }

    [Fact]
    public async Task Token_ids_the_model_lacks_are_refused_even_where_the_tokenizer_knows_them()
    {
        using var directory = new PdServe.TestSupport.TempDirectory("pdserve-vocab");
        TestCluster.WriteModel(directory.Path, null);
        string configPath = Path.Combine(directory.Path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        int modelVocab = VocabSize - 10;
        config["vocab_size"] = modelVocab;
        File.WriteAllText(configPath, config.ToJsonString());
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            Settings = new Dictionary<string, string?> { ["Gateway:ModelDirectory"] = directory.Path },
        });

        using var accepted = await cluster.PostAsync("/v1/completions", $"{{\"model\":\"tiny\",\"prompt\":[{modelVocab - 1}],\"max_tokens\":2}}");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        using var refused = await cluster.PostAsync("/v1/completions", $"{{\"model\":\"tiny\",\"prompt\":[{modelVocab}],\"max_tokens\":2}}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("prompt", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Single(cluster.Decode.SelectMany(n => n.Calls));
    }

    [Fact]
    public async Task A_logprobs_limit_configured_above_the_nodes_limit_still_refuses_what_the_nodes_would()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            Settings = new Dictionary<string, string?> { ["Gateway:Limits:MaxTopLogprobs"] = "50" },
        });
        using var accepted = await cluster.PostAsync("/v1/completions", $"{{\"model\":\"tiny\",\"prompt\":\"a\",\"max_tokens\":1,\"logprobs\":{MaxTopLogprobs}}}");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        using var refused = await cluster.PostAsync("/v1/completions", $"{{\"model\":\"tiny\",\"prompt\":\"a\",\"max_tokens\":1,\"logprobs\":{MaxTopLogprobs + 1}}}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("logprobs", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
    }
}
