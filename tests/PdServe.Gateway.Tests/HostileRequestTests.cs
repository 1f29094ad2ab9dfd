using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PdServe.Gateway.Tests;

/// <summary>
/// Malformed and hostile requests: each gets the right status and OpenAI's error JSON (naming the field for 400s),
/// and the gateway stays healthy and keeps serving.
/// </summary>
public sealed class HostileRequestTests : IAsyncLifetime
{
    private const string Key = "sk-test-key";
    private const int MaxBodyBytes = 64 * 1024;
    private TestCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await TestCluster.StartAsync(new TestCluster.Options
    {
        ApiKeys = [Key],
        Settings = new Dictionary<string, string?>
        {
            ["Gateway:Limits:MaxBodyBytes"] = MaxBodyBytes.ToString(),
            ["Gateway:Limits:MaxN"] = "4",
            ["Gateway:Limits:MaxTokens"] = "512",
        },
    });

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    public enum Auth { Valid, Missing, Wrong }

    /// <summary>A hostile request: what is sent, and the status and error param expected back.</summary>
    public sealed record Case(string Name, string Path, byte[] Body, Auth Auth, HttpStatusCode Status, string? Param)
    {
        public override string ToString() => Name;
    }

    private static Case Completion(string name, string json, HttpStatusCode status, string? param) =>
        new(name, "/v1/completions", Encoding.UTF8.GetBytes(json), Auth.Valid, status, param);

    private static Case Chat(string name, string json, HttpStatusCode status, string? param) =>
        new(name, "/v1/chat/completions", Encoding.UTF8.GetBytes(json), Auth.Valid, status, param);

    private const string Ok = "\"model\":\"tiny\",\"prompt\":\"hello\"";
    private const string OkChat = "\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    public static IEnumerable<object[]> Cases() => new Case[]
    {
        Completion("truncated JSON", "{\"model\":\"tiny\",", HttpStatusCode.BadRequest, null),
        Completion("empty body", "", HttpStatusCode.BadRequest, null),
        Completion("JSON array body", "[]", HttpStatusCode.BadRequest, null),
        Completion("JSON string body", "\"prompt\"", HttpStatusCode.BadRequest, null),
        Completion("missing model", "{\"prompt\":\"hello\"}", HttpStatusCode.BadRequest, "model"),
        Completion("model is a number", "{\"model\":7,\"prompt\":\"hello\"}", HttpStatusCode.BadRequest, "model"),
        Completion("unknown model", "{\"model\":\"gpt-9\",\"prompt\":\"hello\"}", HttpStatusCode.NotFound, "model"),
        Completion("missing prompt", "{\"model\":\"tiny\"}", HttpStatusCode.BadRequest, "prompt"),
        Completion("prompt is a number", "{\"model\":\"tiny\",\"prompt\":5}", HttpStatusCode.BadRequest, "prompt"),
        Completion("prompt is an empty list", "{\"model\":\"tiny\",\"prompt\":[]}", HttpStatusCode.BadRequest, "prompt"),
        Completion("prompt mixes ids and text", "{\"model\":\"tiny\",\"prompt\":[1,\"a\"]}", HttpStatusCode.BadRequest, "prompt"),
        Completion("token id beyond the vocabulary", "{\"model\":\"tiny\",\"prompt\":[999999]}", HttpStatusCode.BadRequest, "prompt"),
        Completion("negative token id", "{\"model\":\"tiny\",\"prompt\":[-3]}", HttpStatusCode.BadRequest, "prompt"),
        Completion("negative max_tokens", $"{{{Ok},\"max_tokens\":-1}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("zero max_tokens", $"{{{Ok},\"max_tokens\":0}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("huge max_tokens", $"{{{Ok},\"max_tokens\":1000000000000}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("max_tokens is text", $"{{{Ok},\"max_tokens\":\"ten\"}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("fractional max_tokens", $"{{{Ok},\"max_tokens\":1.5}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("max_tokens past the context", $"{{{Ok},\"max_tokens\":300}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("negative temperature", $"{{{Ok},\"temperature\":-1}}", HttpStatusCode.BadRequest, "temperature"),
        Completion("temperature is text", $"{{{Ok},\"temperature\":\"hot\"}}", HttpStatusCode.BadRequest, "temperature"),
        Completion("top_p zero", $"{{{Ok},\"top_p\":0}}", HttpStatusCode.BadRequest, "top_p"),
        Completion("top_p above one", $"{{{Ok},\"top_p\":1.5}}", HttpStatusCode.BadRequest, "top_p"),
        Completion("n zero", $"{{{Ok},\"n\":0}}", HttpStatusCode.BadRequest, "n"),
        Completion("n over the limit", $"{{{Ok},\"n\":1000}}", HttpStatusCode.BadRequest, "n"),
        Completion("stop list too long", $"{{{Ok},\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}}", HttpStatusCode.BadRequest, "stop"),
        Completion("stop holds a number", $"{{{Ok},\"stop\":[1]}}", HttpStatusCode.BadRequest, "stop"),
        Completion("empty stop string", $"{{{Ok},\"stop\":\"\"}}", HttpStatusCode.BadRequest, "stop"),
        Completion("stream is text", $"{{{Ok},\"stream\":\"yes\"}}", HttpStatusCode.BadRequest, "stream"),
        Completion("ignore_eos is text", $"{{{Ok},\"ignore_eos\":\"yes\"}}", HttpStatusCode.BadRequest, "ignore_eos"),
        Completion("stream_options without stream", $"{{{Ok},\"stream_options\":{{\"include_usage\":true}}}}", HttpStatusCode.BadRequest, "stream_options"),
        Completion("logprobs over the limit", $"{{{Ok},\"logprobs\":100}}", HttpStatusCode.BadRequest, "logprobs"),
        Completion("seed is text", $"{{{Ok},\"seed\":\"x\"}}", HttpStatusCode.BadRequest, "seed"),
        Completion("presence_penalty asked for", $"{{{Ok},\"presence_penalty\":1}}", HttpStatusCode.BadRequest, "presence_penalty"),
        Completion("echo is text", $"{{{Ok},\"echo\":\"yes\"}}", HttpStatusCode.BadRequest, "echo"),
        Completion("max_tokens 0 without echo", $"{{{Ok},\"max_tokens\":0}}", HttpStatusCode.BadRequest, "max_tokens"),
        Completion("prompt_logprobs over the limit", $"{{{Ok},\"prompt_logprobs\":21}}", HttpStatusCode.BadRequest, "prompt_logprobs"),
        Completion("prompt_logprobs negative", $"{{{Ok},\"prompt_logprobs\":-1}}", HttpStatusCode.BadRequest, "prompt_logprobs"),
        Completion("prompt of 300 token ids", $"{{\"model\":\"tiny\",\"prompt\":[{string.Join(',', Enumerable.Repeat(65, 300))}]}}", HttpStatusCode.RequestEntityTooLarge, "prompt"),
        Completion("text prompt longer than the context", $"{{\"model\":\"tiny\",\"prompt\":\"{string.Concat(Enumerable.Repeat("a b ", 300))}\"}}", HttpStatusCode.RequestEntityTooLarge, "prompt"),
        Completion("body over the size limit", $"{{\"model\":\"tiny\",\"prompt\":\"{new string('x', MaxBodyBytes + 10)}\"}}", HttpStatusCode.RequestEntityTooLarge, null),
        Completion("JSON nested 200 deep", $"{{{Ok},\"user\":{new string('[', 200)}{new string(']', 200)}}}", HttpStatusCode.BadRequest, null),
        new("invalid UTF-8 in a string", "/v1/completions",
            [.. Encoding.UTF8.GetBytes("{\"model\":\"tiny\",\"prompt\":\"ab"), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes("\"}")],
            Auth.Valid, HttpStatusCode.BadRequest, null),
        new("missing API key", "/v1/completions", Encoding.UTF8.GetBytes($"{{{Ok}}}"), Auth.Missing, HttpStatusCode.Unauthorized, null),
        new("wrong API key", "/v1/completions", Encoding.UTF8.GetBytes($"{{{Ok}}}"), Auth.Wrong, HttpStatusCode.Unauthorized, null),
        new("unknown path", "/v1/embeddings", Encoding.UTF8.GetBytes("{}"), Auth.Valid, HttpStatusCode.NotFound, null),
        Chat("chat without messages", "{\"model\":\"tiny\"}", HttpStatusCode.BadRequest, "messages"),
        Chat("chat with prompt_logprobs", $"{{{OkChat},\"prompt_logprobs\":1}}", HttpStatusCode.BadRequest, "prompt_logprobs"),
        Chat("chat with empty messages", "{\"model\":\"tiny\",\"messages\":[]}", HttpStatusCode.BadRequest, "messages"),
        Chat("chat with an unknown role", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", HttpStatusCode.BadRequest, "messages[0].role"),
        Chat("chat content is a number", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":3}]}", HttpStatusCode.BadRequest, "messages[0].content"),
        Chat("chat with an image part", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}", HttpStatusCode.BadRequest, "messages[0].content"),
        Chat("chat message is a string", "{\"model\":\"tiny\",\"messages\":[\"hi\"]}", HttpStatusCode.BadRequest, "messages[0]"),
        Chat("top_logprobs without logprobs", $"{{{OkChat},\"top_logprobs\":2}}", HttpStatusCode.BadRequest, "top_logprobs"),
        Chat("zero max_completion_tokens", $"{{{OkChat},\"max_completion_tokens\":0}}", HttpStatusCode.BadRequest, "max_completion_tokens"),
        Completion("lone surrogate escaped in the prompt", "{\"model\":\"tiny\",\"prompt\":\"a\\ud800b\"}", HttpStatusCode.BadRequest, "prompt"),
        Chat("chat ignore_eos is text", $"{{{OkChat},\"ignore_eos\":\"yes\"}}", HttpStatusCode.BadRequest, "ignore_eos"),
        Chat("tools asked for", $"{{{OkChat},\"tools\":[{{\"type\":\"function\"}}]}}", HttpStatusCode.BadRequest, "tools"),
    }.Select(c => new object[] { c });

    [Fact]
    public void The_table_has_at_least_30_cases() => Assert.True(Cases().Count() >= 30);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_gets_its_status_and_error_json_and_the_gateway_stays_healthy(Case c)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, c.Path) { Content = new ByteArrayContent(c.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (c.Auth != Auth.Missing)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", c.Auth == Auth.Valid ? Key : "sk-wrong");
        using var response = await cluster.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.True(c.Status == response.StatusCode, $"{c.Name}: expected {(int)c.Status}, got {(int)response.StatusCode} {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()));
        if (c.Param is not null) Assert.Equal(c.Param, error.GetProperty("param").GetString());
        if (c.Status == HttpStatusCode.Unauthorized) Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);

        using var health = await cluster.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var valid = await cluster.PostAsync("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"after\",\"max_tokens\":3}", Key);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }
}
