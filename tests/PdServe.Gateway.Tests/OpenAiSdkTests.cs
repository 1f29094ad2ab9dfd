using System.ClientModel;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using PdServe.Contracts;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>
/// The official OpenAI .NET SDK against the gateway (fake nodes script the tokens; the tokenizer is real). The SDK has
/// no public client for the legacy /v1/completions, so those requests go over plain HTTP.
/// </summary>
public sealed class OpenAiSdkTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    private OpenAIClientOptions ClientOptions => new() { Endpoint = new Uri(Cluster.Address + "/v1") };
    private ChatClient Chat => new(TestCluster.ModelId, new ApiKeyCredential("unused"), ClientOptions);

    private int TokenCount(string text) => Cluster.Tokenizer.Encode(text, addSpecialTokens: false).Count;

    // OpenAI 2.10 keeps its legacy completions client internal, so /v1/completions is called over plain HTTP.
    private Task<JsonElement> CompleteAsync(object body) => Cluster.PostJsonAsync("/v1/completions", body);

    [Fact]
    public async Task Completion_returns_the_decoded_tokens_with_usage_and_sends_the_prompt_tokens_and_prefill_address()
    {
        const string prompt = "Let there be";
        var response = await CompleteAsync(new { model = TestCluster.ModelId, prompt, max_tokens = 100, temperature = 0 });

        var choice = response.GetProperty("choices")[0];
        Assert.Equal(FakeScript.GreedyText, choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("text_completion", response.GetProperty("object").GetString());
        var promptIds = Cluster.Tokenizer.Encode(prompt);
        var usage = response.GetProperty("usage");
        Assert.Equal(promptIds.Count, usage.GetProperty("prompt_tokens").GetInt32());
        // The text's tokens plus the EOS that ended it.
        Assert.Equal(TokenCount(FakeScript.GreedyText) + 1, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(promptIds.Count + TokenCount(FakeScript.GreedyText) + 1, usage.GetProperty("total_tokens").GetInt32());

        var call = Cluster.Decode.SelectMany(n => n.Calls).Single(c => c.Request.PromptTokenIds.SequenceEqual(promptIds));
        Assert.Equal(Cluster.Prefill[0].Address.TrimEnd('/'), call.Request.PrefillAddress);
        Assert.Equal(TestCluster.NodeToken, call.NodeToken);
        Assert.Equal(100, call.Request.Sampling.MaxTokens);
        Assert.Equal(1, call.Request.N);
    }

    [Fact]
    public async Task Ignore_eos_reaches_the_node_when_asked_and_is_off_by_default()
    {
        await CompleteAsync(new { model = TestCluster.ModelId, prompt = "Past the end", max_tokens = 20, ignore_eos = true });
        await CompleteAsync(new { model = TestCluster.ModelId, prompt = "Stop at the end", max_tokens = 20 });
        await Cluster.PostJsonAsync("/v1/chat/completions", new
        {
            model = TestCluster.ModelId, messages = new[] { new { role = "user", content = "Chat past the end" } }, max_tokens = 20, ignore_eos = true,
        });

        GenerateRequestFor(Cluster.Tokenizer.Encode("Past the end"), expectIgnoreEos: true);
        GenerateRequestFor(Cluster.Tokenizer.Encode("Stop at the end"), expectIgnoreEos: false);
        GenerateRequestFor(Cluster.Tokenizer.Encode("User: Chat past the end\nAssistant:"), expectIgnoreEos: true);

        void GenerateRequestFor(IReadOnlyList<int> promptIds, bool expectIgnoreEos)
        {
            var call = Cluster.Decode.SelectMany(n => n.Calls).Single(c => c.Request.PromptTokenIds.SequenceEqual(promptIds));
            Assert.Equal(expectIgnoreEos, call.Request.Sampling.IgnoreEos);
        }
    }

    [Fact]
    public async Task Chat_completion_answers_with_the_assistant_message_and_usage()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Who made the earth?")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 100 });

        Assert.Equal(FakeScript.GreedyText, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        // No chat_template in the tiny tokenizer: the plain format, encoded with BOS.
        var promptIds = Cluster.Tokenizer.Encode("System: You are terse.\nUser: Who made the earth?\nAssistant:");
        Assert.Equal(promptIds.Count, completion.Usage.InputTokenCount);
        Assert.Equal(TokenCount(FakeScript.GreedyText) + 1, completion.Usage.OutputTokenCount);
        Assert.Contains(Cluster.Decode.SelectMany(n => n.Calls), c => c.Request.PromptTokenIds.SequenceEqual(promptIds));
    }

    [Fact]
    public async Task Chat_streaming_delivers_the_text_in_pieces_and_usage_at_the_end()
    {
        var text = new StringBuilder();
        int pieces = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync(
                           [new UserChatMessage("Stream, please")],
                           new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 100 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                pieces++;
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(FakeScript.GreedyText, text.ToString());
        Assert.True(pieces > 5, $"expected the text in many chunks, got {pieces}");
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(TokenCount(FakeScript.GreedyText) + 1, usage.OutputTokenCount);
        Assert.Equal(Cluster.Tokenizer.Encode("User: Stream, please\nAssistant:").Count, usage.InputTokenCount);
    }

    [Fact]
    public async Task N_2_with_a_seed_returns_two_samples_and_the_same_seed_reproduces_them()
    {
        object body = new { model = TestCluster.ModelId, prompt = "Seeded", max_tokens = 100, temperature = 0.8, n = 2, seed = 41 };
        var first = await CompleteAsync(body);
        var second = await CompleteAsync(body);

        string[] Texts(JsonElement r) => r.GetProperty("choices").EnumerateArray()
            .OrderBy(c => c.GetProperty("index").GetInt32()).Select(c => c.GetProperty("text").GetString()!).ToArray();
        Assert.Equal([FakeScript.SampledText(41, 0), FakeScript.SampledText(41, 1)], Texts(first));
        Assert.Equal(Texts(first), Texts(second));
        var calls = Cluster.Decode.SelectMany(n => n.Calls).Where(c => c.Request.Sampling.HasSeed && c.Request.Sampling.Seed == 41).ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(2, c.Request.N));
        Assert.All(calls, c => Assert.Equal(0.8f, c.Request.Sampling.Temperature));
    }

    [Fact]
    public async Task Chat_seed_is_passed_to_the_node_and_reproduces_the_answer()
    {
        var options = new ChatCompletionOptions { Temperature = 1, Seed = 1234, MaxOutputTokenCount = 100 };
        ChatCompletion a = await Chat.CompleteChatAsync([new UserChatMessage("Seed me")], options);
        ChatCompletion b = await Chat.CompleteChatAsync([new UserChatMessage("Seed me")], options);
        Assert.Equal(FakeScript.SampledText(1234, 0), a.Content[0].Text);
        Assert.Equal(a.Content[0].Text, b.Content[0].Text);
    }

    [Fact]
    public async Task Chat_logprobs_report_every_token_with_its_alternatives()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Logprobs")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 100, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 });

        var logprobs = completion.ContentTokenLogProbabilities;
        Assert.Equal(TokenCount(FakeScript.GreedyText) + 1, logprobs.Count);
        Assert.Equal(FakeScript.Logprob(0), logprobs[0].LogProbability);
        Assert.Equal(FakeScript.Logprob(3), logprobs[3].LogProbability);
        Assert.Equal("In", logprobs[0].Token + logprobs[1].Token);
        Assert.All(logprobs, l => Assert.Equal(2, l.TopLogProbabilities.Count));
        Assert.Equal("a", logprobs[0].TopLogProbabilities[0].Token);
        Assert.Equal(FakeScript.GreedyText, string.Concat(logprobs.Select(l => l.Token)));
    }

    [Fact]
    public async Task Completion_logprobs_are_parallel_lists()
    {
        var response = await CompleteAsync(new { model = TestCluster.ModelId, prompt = "x", max_tokens = 4, temperature = 0, logprobs = 1 });
        var logprobs = response.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(4, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(FakeScript.Logprob(1), logprobs.GetProperty("token_logprobs")[1].GetSingle());
        Assert.Single(logprobs.GetProperty("top_logprobs")[0].EnumerateObject());
        Assert.Equal("length", response.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData("created", "In the beginning God ")]
    [InlineData("God cr", "In the beginning ")] // spans two tokens of the tiny tokenizer
    [InlineData("heaven and", "In the beginning God created the ")]
    public async Task Stop_strings_cut_the_text_before_them_even_across_tokens(string stop, string expected)
    {
        var response = await CompleteAsync(new { model = TestCluster.ModelId, prompt = "stop test", max_tokens = 100, temperature = 0, stop = new[] { "zzz", stop } });
        var choice = response.GetProperty("choices")[0];
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        ChatCompletion chat = await Chat.CompleteChatAsync([new UserChatMessage("stop test")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 100, StopSequences = { stop } });
        Assert.Equal(expected, chat.Content[0].Text);

        var streamed = new StringBuilder();
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("stop test")],
                           new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 100, StopSequences = { stop } }))
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task Models_lists_the_served_model()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential("unused"), ClientOptions);
        OpenAIModelCollection models = await client.GetModelsAsync();
        Assert.Equal([TestCluster.ModelId], models.Select(m => m.Id));
        OpenAIModel model = await client.GetModelAsync(TestCluster.ModelId);
        Assert.Equal("pdserve", model.OwnedBy);
    }
}
