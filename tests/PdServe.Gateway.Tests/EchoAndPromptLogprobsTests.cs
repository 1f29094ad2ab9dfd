using System.Net;
using System.Text.Json;
using PdServe.Contracts;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>
/// echo, echo + logprobs, echo with max_tokens 0 and vLLM's prompt_logprobs, assembled by the gateway from the prompt
/// scores a decode node streams before its tokens (the fake sends <see cref="FakeScript.PromptScores"/>).
/// </summary>
public sealed class EchoAndPromptLogprobsTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private const string Prompt = "And God said";
    private TestCluster Cluster => fixture.Cluster;

    private IReadOnlyList<int> PromptTokens => Cluster.Tokenizer.Encode(Prompt);
    private string TokenText(int id) => Cluster.Tokenizer.Decode([id]);

    private GenerateRequest CallFor(JsonElement response)
    {
        string id = response.GetProperty("id").GetString()!;
        return Cluster.Decode.SelectMany(n => n.Calls).Single(c => c.Request.RequestId.StartsWith(id, StringComparison.Ordinal)).Request;
    }

    [Fact]
    public async Task Echo_prepends_the_prompt_text_and_asks_the_nodes_for_no_scores()
    {
        var response = await Cluster.PostJsonAsync("/v1/completions",
            new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 4, temperature = 0, echo = true });

        string text = response.GetProperty("choices")[0].GetProperty("text").GetString()!;
        string generated = Cluster.Tokenizer.Decode(Cluster.Tokenizer.Encode(FakeScript.GreedyText, addSpecialTokens: false).Take(4).ToList());
        Assert.Equal(Prompt + generated, text);
        Assert.False(CallFor(response).Sampling.HasPromptLogprobs);
        Assert.Equal(4, response.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Echo_with_logprobs_lists_the_prompt_tokens_first_with_a_null_first_logprob()
    {
        var response = await Cluster.PostJsonAsync("/v1/completions",
            new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 3, temperature = 0, echo = true, logprobs = 2 });

        Assert.Equal(2, CallFor(response).Sampling.PromptLogprobs);
        var logprobs = response.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToList();
        var tokenLogprobs = logprobs.GetProperty("token_logprobs");
        var top = logprobs.GetProperty("top_logprobs");
        IReadOnlyList<int> prompt = PromptTokens;
        Assert.Equal(prompt.Count + 3, tokens.Count);
        Assert.Equal(prompt.Select(TokenText), tokens.Take(prompt.Count));
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, top[0].ValueKind);
        for (int i = 1; i < prompt.Count; i++)
        {
            Assert.Equal(FakeScript.PromptLogprob(i), tokenLogprobs[i].GetSingle());
            Assert.Equal(2, top[i].EnumerateObject().Count());
            Assert.Equal(FakeScript.PromptAlternativeLogprob(0), top[i].GetProperty(TokenText(FakeScript.PromptAlternativeFirstId)).GetSingle());
        }
        // The generated tokens follow with their own logprobs.
        Assert.Equal(FakeScript.Logprob(0), tokenLogprobs[prompt.Count].GetSingle());
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList();
        Assert.Equal(0, offsets[0]);
        Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.First <= p.Second), "text offsets must not decrease");
    }

    [Fact]
    public async Task Echo_with_max_tokens_0_scores_the_prompt_only()
    {
        var response = await Cluster.PostJsonAsync("/v1/completions",
            new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 0, echo = true, logprobs = 0, temperature = 0 });

        var call = CallFor(response);
        Assert.Equal(1, call.Sampling.MaxTokens);
        Assert.Equal(0, call.Sampling.TopLogprobs);
        var choice = response.GetProperty("choices")[0];
        Assert.Equal(Prompt, choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(PromptTokens.Count, choice.GetProperty("logprobs").GetProperty("tokens").GetArrayLength());
        Assert.Equal(0, response.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(PromptTokens.Count, response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Prompt_logprobs_come_in_vllm_shape_beside_a_completion_that_is_not_echoed()
    {
        var response = await Cluster.PostJsonAsync("/v1/completions",
            new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 2, temperature = 0, prompt_logprobs = 1 });

        var call = CallFor(response);
        Assert.Equal(1, call.Sampling.PromptLogprobs);
        Assert.Equal(0, call.Sampling.TopLogprobs);
        var choice = response.GetProperty("choices")[0];
        Assert.False(choice.GetProperty("text").GetString()!.StartsWith(Prompt, StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        var positions = choice.GetProperty("prompt_logprobs");
        IReadOnlyList<int> prompt = PromptTokens;
        Assert.Equal(prompt.Count, positions.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, positions[0].ValueKind);
        for (int i = 1; i < prompt.Count; i++)
        {
            var own = positions[i].GetProperty(prompt[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(FakeScript.PromptLogprob(i), own.GetProperty("logprob").GetSingle());
            Assert.Equal(FakeScript.PromptRank(i), own.GetProperty("rank").GetInt32());
            Assert.Equal(TokenText(prompt[i]), own.GetProperty("decoded_token").GetString());
            var alternative = positions[i].GetProperty(FakeScript.PromptAlternativeFirstId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(1, alternative.GetProperty("rank").GetInt32());
        }
    }

    [Fact]
    public async Task A_request_without_these_fields_has_no_prompt_logprobs_key()
    {
        var response = await Cluster.PostJsonAsync("/v1/completions", new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 2 });
        Assert.False(response.GetProperty("choices")[0].TryGetProperty("prompt_logprobs", out _));
    }

    [Fact]
    public async Task Streaming_echo_sends_each_choice_its_prompt_first_and_keeps_it_out_of_the_completion_count()
    {
        string body = JsonSerializer.Serialize(new
        {
            model = TestCluster.ModelId, prompt = Prompt, max_tokens = 3, temperature = 0.8, seed = 5, n = 2, echo = true, logprobs = 1,
            stream = true, stream_options = new { include_usage = true },
        });
        using var stream = await SseStream.OpenAsync(Cluster.Http, "/v1/completions", body);
        await stream.ReadToEndAsync();

        Assert.True(stream.Done);
        var choices = stream.Chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).ToList();
        foreach (int index in new[] { 0, 1 })
        {
            var first = choices.First(c => c.GetProperty("index").GetInt32() == index);
            Assert.Equal(Prompt, first.GetProperty("text").GetString());
            Assert.Equal(JsonValueKind.Null, first.GetProperty("logprobs").GetProperty("token_logprobs")[0].ValueKind);
        }
        var usage = stream.Chunks.Last().GetProperty("usage");
        Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_decode_node_that_skips_the_prompt_logprobs_fails_the_request_cleanly()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { DecodeNodes = 1 });
        cluster.Decode[0].Behavior = new FakeDecodeBehavior { OmitPromptLogprobs = true };

        using var response = await cluster.PostAsync("/v1/completions",
            JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 2, echo = true, logprobs = 1 }));
        string text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode >= 500, $"{(int)response.StatusCode} {text}");
        Assert.Contains("\"error\"", text);
        Assert.DoesNotContain("prompt logprobs", text);
    }

    [Fact]
    public async Task Tokenize_and_detokenize_use_the_served_model_s_tokenizer()
    {
        var tokenized = await Cluster.PostJsonAsync("/tokenize", new { model = TestCluster.ModelId, prompt = Prompt, return_token_strs = true });
        IReadOnlyList<int> expected = PromptTokens;
        Assert.Equal(expected, tokenized.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(expected.Count, tokenized.GetProperty("count").GetInt32());
        Assert.True(tokenized.GetProperty("max_model_len").GetInt32() > 0);
        Assert.Equal(expected.Count, tokenized.GetProperty("token_strs").GetArrayLength());

        var bare = await Cluster.PostJsonAsync("/tokenize", new { prompt = Prompt, add_special_tokens = false });
        Assert.Equal(Cluster.Tokenizer.Encode(Prompt, addSpecialTokens: false), bare.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.False(bare.TryGetProperty("token_strs", out _));

        var chat = await Cluster.PostJsonAsync("/tokenize", new { messages = new[] { new { role = "user", content = "hi" } } });
        Assert.True(chat.GetProperty("count").GetInt32() > 1);

        var detokenized = await Cluster.PostJsonAsync("/detokenize", new { model = TestCluster.ModelId, tokens = expected });
        Assert.Equal(Prompt, detokenized.GetProperty("prompt").GetString());

        var models = JsonDocument.Parse(await Cluster.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal(tokenized.GetProperty("max_model_len").GetInt32(), models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());
    }

    [Theory]
    [InlineData("/tokenize", "{\"prompt\":\"a\",\"messages\":[]}", "messages")]
    [InlineData("/tokenize", "{}", "prompt")]
    [InlineData("/tokenize", "{\"prompt\":3}", "prompt")]
    [InlineData("/tokenize", "{\"model\":\"other\",\"prompt\":\"a\"}", "model")]
    [InlineData("/detokenize", "{\"tokens\":[99999]}", "tokens")]
    [InlineData("/detokenize", "{\"tokens\":\"abc\"}", "tokens")]
    public async Task Tokenizer_endpoints_refuse_bad_bodies_naming_the_field(string path, string body, string field)
    {
        using var response = await Cluster.PostAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{(int)response.StatusCode} {text}");
        Assert.Equal(field, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task The_client_s_request_id_names_the_response_and_the_node_call_and_a_bad_one_is_replaced()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = TestCluster.ModelId, prompt = Prompt, max_tokens = 2 }),
                System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", "client-id.42");
        using var response = await Cluster.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("client-id.42", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("cmpl-client-id.42", body.GetProperty("id").GetString());
        Assert.StartsWith("cmpl-client-id.42-", CallFor(body).RequestId, StringComparison.Ordinal);

        var hostile = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        hostile.Headers.TryAddWithoutValidation("x-request-id", "bad id\twith spaces");
        using var refused = await Cluster.Http.SendAsync(hostile);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        string replaced = refused.Headers.GetValues("x-request-id").Single();
        Assert.Matches("^[0-9a-f]{32}$", replaced);
    }
}
