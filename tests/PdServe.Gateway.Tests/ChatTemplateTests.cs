using PdServe.ChatTemplates;

namespace PdServe.Gateway.Tests;

/// <summary>A chat template used end to end by the gateway (the Jinja subset itself is tested in PdServe.ChatTemplates.Tests).</summary>
public sealed class ChatTemplateTests
{
    // SmolLM2 / Qwen2 style (ChatML).
    private const string ChatMl =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nDefault<|im_end|>\n' }}{% endif %}" +
        "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    [Fact]
    public async Task The_gateway_encodes_the_rendered_template_without_adding_special_tokens()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options { ChatTemplate = ChatMl, DecodeNodes = 1 });
        await cluster.PostJsonAsync("/v1/chat/completions", new
        {
            model = TestCluster.ModelId,
            messages = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = " Hi " } },
            max_tokens = 2,
        });
        string rendered = JinjaTemplate.Parse(ChatMl).Render(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?>
            {
                new Dictionary<string, object?> { ["role"] = "system", ["content"] = "Be brief." },
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = " Hi " },
            },
            ["add_generation_prompt"] = true,
        });
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n", rendered);
        var expected = cluster.Tokenizer.Encode(rendered, addSpecialTokens: false);
        Assert.Equal(expected, cluster.Decode[0].Calls.Single().Request.PromptTokenIds);
    }
}
