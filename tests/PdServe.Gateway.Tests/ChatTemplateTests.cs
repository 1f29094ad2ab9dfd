using PdServe.Gateway.Chat.Jinja;

namespace PdServe.Gateway.Tests;

/// <summary>The Jinja subset on the shapes of real chat templates, and a template used end to end by the gateway.</summary>
public sealed class ChatTemplateTests
{
    private static readonly List<object?> Conversation =
    [
        new Dictionary<string, object?> { ["role"] = "system", ["content"] = "Be brief." },
        new Dictionary<string, object?> { ["role"] = "user", ["content"] = " Hi " },
    ];

    private static string Render(string template, bool addGenerationPrompt = true) =>
        JinjaTemplate.Parse(template).Render(new Dictionary<string, object?>
        {
            ["messages"] = Conversation,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = "<s>",
            ["eos_token"] = "</s>",
        });

    // SmolLM2 / Qwen2 style (ChatML), with whitespace control.
    public const string ChatMl =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nDefault<|im_end|>\n' }}{% endif %}" +
        "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    [Fact]
    public void ChatMl_template_renders_each_message_and_the_generation_prompt()
    {
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n", Render(ChatMl));
        Assert.EndsWith("<|im_end|>\n", Render(ChatMl, addGenerationPrompt: false));
    }

    [Fact]
    public void Llama3_template_with_set_trim_filter_and_bos()
    {
        const string template =
            "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + " +
            "'<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}" +
            "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        Assert.Equal("<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
                     "<|start_header_id|>assistant<|end_header_id|>\n\n", Render(template));
    }

    [Fact]
    public void Llama2_template_with_slices_methods_namespace_and_raise_exception()
    {
        const string template = """
            {%- if messages[0]['role'] == 'system' -%}
                {%- set loop_messages = messages[1:] -%}{%- set system = messages[0]['content'] -%}
            {%- else -%}{%- set loop_messages = messages -%}{%- set system = none -%}{%- endif -%}
            {%- set ns = namespace(count=0) -%}
            {%- for message in loop_messages -%}
                {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}{{ raise_exception('roles must alternate') }}{%- endif -%}
                {%- set ns.count = ns.count + 1 -%}
                {{ bos_token ~ '[INST] ' ~ (('<<SYS>>' ~ system ~ '<</SYS>> ') if system is not none else '') ~ message['content'].strip() ~ ' [/INST]' }}
            {%- endfor -%}
            {{ ' #' ~ ns.count }}
            """;
        Assert.Equal("<s>[INST] <<SYS>>Be brief.<</SYS>> Hi [/INST] #1", Render(template));

        var bad = JinjaTemplate.Parse(template);
        var error = Assert.Throws<JinjaRaisedException>(() => bad.Render(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?> { new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "x" } },
            ["bos_token"] = "<s>",
        }));
        Assert.Equal("roles must alternate", error.Message);
    }

    [Fact]
    public void Unsupported_syntax_is_refused_at_parse_time()
    {
        var error = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{% macro m() %}x{% endmacro %}"));
        Assert.Contains("macro", error.Message);
    }

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
        var expected = cluster.Tokenizer.Encode(Render(ChatMl), addSpecialTokens: false);
        Assert.Equal(expected, cluster.Decode[0].Calls.Single().Request.PromptTokenIds);
    }
}
