using PdServe.ChatTemplates.Errors;
using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>
/// Whole chat templates in the styles of the model families the gateway serves (ChatML, Llama 2 and 3, Mistral,
/// Zephyr, Gemma, Phi-3, Qwen, a reasoning model), rendered as the gateway renders them: messages,
/// add_generation_prompt, bos_token and eos_token. Expected outputs are what Hugging Face's Jinja renders.
/// </summary>
public sealed class ChatTemplateRenderingTests
{
    private static readonly List<object?> Conversation =
    [
        Message("system", "Be brief."),
        Message("user", " Hi "),
        Message("assistant", "<think>hmm</think>Hello!"),
        Message("user", "Bye"),
    ];

    private static List<object?> WithoutSystem => Conversation.Skip(1).ToList();

    private static string RenderChat(string template, List<object?> messages, bool addGenerationPrompt = true) =>
        Render(template, ("messages", messages), ("add_generation_prompt", addGenerationPrompt), ("bos_token", "<s>"), ("eos_token", "</s>"));

    private const string Zephyr = """
        {% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}
        """;

    private const string Mistral = """
        {{- bos_token }}
        {%- if messages[0]['role'] == 'system' %}
            {%- set system_message = messages[0]['content'] %}
            {%- set loop_messages = messages[1:] %}
        {%- else %}
            {%- set loop_messages = messages %}
        {%- endif %}
        {%- for message in loop_messages %}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
                {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
            {%- endif %}
            {%- if message['role'] == 'user' %}
                {%- if loop.first and system_message is defined %}
                    {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
                {%- else %}
                    {{- ' [INST] ' + message['content'] + ' [/INST]' }}
                {%- endif %}
            {%- elif message['role'] == 'assistant' %}
                {{- ' ' + message['content'] + eos_token }}
            {%- else %}
                {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
            {%- endif %}
        {%- endfor %}
        """;

    private const string Gemma = """
        {{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}
        """;

    private const string Phi3 = """
        {% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}
        """;

    private const string Qwen = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0].role == 'system' %}
                {{- messages[0].content + '\n\n' }}
            {%- endif %}
            {{- "# Tools\n" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "<|im_end|>\n" }}
        {%- else %}
            {%- if messages[0].role == 'system' %}
                {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
            {%- else %}
                {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
            {%- endif %}
        {%- endif %}
        {%- for message in messages %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant") %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """;

    private const string Reasoning = """
        {% set ns = namespace(system_prompt='', is_first_user=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{ '<|User|>' + message['content'] }}{%- endif %}{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{ '<|Assistant|>' + content + '<|end|>' }}{%- endif %}{%- endfor %}{% if add_generation_prompt %}{{ '<|Assistant|><think>\n' }}{% endif %}
        """;

    private const string SmolLM = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
        You are a helpful AI assistant named SmolLM<|im_end|>
        ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
        ' + message['content'] + '<|im_end|>' + '
        '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
        ' }}{% endif %}
        """;

    [Fact]
    public void Zephyr_style_template_renders_the_conversation()
    {
        Assert.Equal("<|system|>\nBe brief.</s>\n<|user|>\n Hi </s>\n<|assistant|>\n<think>hmm</think>Hello!</s>\n<|user|>\nBye</s>\n<|assistant|>\n",
            RenderChat(Zephyr, Conversation));
        Assert.Equal("<|user|>\n Hi </s>\n<|assistant|>\n<think>hmm</think>Hello!</s>\n<|user|>\nBye</s>\n<|assistant|>\n",
            RenderChat(Zephyr, WithoutSystem));
    }

    [Fact]
    public void Mistral_style_template_renders_the_conversation()
    {
        Assert.Equal("<s> [INST] Be brief.\n\n Hi  [/INST] <think>hmm</think>Hello!</s> [INST] Bye [/INST]",
            RenderChat(Mistral, Conversation));
        Assert.Equal("<s> [INST]  Hi  [/INST] <think>hmm</think>Hello!</s> [INST] Bye [/INST]",
            RenderChat(Mistral, WithoutSystem));
    }

    [Fact]
    public void Gemma_style_template_renders_the_conversation()
    {
        Assert.Equal("<s><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n<think>hmm</think>Hello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n",
            RenderChat(Gemma, WithoutSystem));
        var error = Assert.Throws<JinjaRaisedException>(() => RenderChat(Gemma, Conversation));
        Assert.Equal("System role not supported", error.Message);
    }

    [Fact]
    public void Phi3_style_template_renders_the_conversation()
    {
        Assert.Equal("<|system|>\nBe brief.<|end|>\n<|user|>\n Hi <|end|>\n<|assistant|>\n<think>hmm</think>Hello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n",
            RenderChat(Phi3, Conversation));
        Assert.Equal("<|user|>\n Hi <|end|>\n<|assistant|>\n<think>hmm</think>Hello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n",
            RenderChat(Phi3, WithoutSystem));
    }

    [Fact]
    public void Qwen_style_template_renders_the_conversation()
    {
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n<think>hmm</think>Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
            RenderChat(Qwen, Conversation));
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n<think>hmm</think>Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
            RenderChat(Qwen, WithoutSystem));
    }

    [Fact]
    public void Reasoning_style_template_renders_the_conversation()
    {
        Assert.Equal("<s>Be brief.<|User|> Hi <|Assistant|>Hello!<|end|><|User|>Bye<|Assistant|><think>\n",
            RenderChat(Reasoning, Conversation));
        Assert.Equal("<s><|User|> Hi <|Assistant|>Hello!<|end|><|User|>Bye<|Assistant|><think>\n",
            RenderChat(Reasoning, WithoutSystem));
    }

    [Fact]
    public void SmolLM_style_template_renders_the_conversation()
    {
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n<think>hmm</think>Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
            RenderChat(SmolLM, Conversation));
        Assert.Equal("<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n<think>hmm</think>Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
            RenderChat(SmolLM, WithoutSystem));
    }

    [Fact]
    public void Qwen_style_template_lists_tools_as_json()
    {
        var tools = List(Map(("name", "get_weather"), ("parameters", Map(("city", "string")))));
        Assert.Equal("<|im_start|>system\nBe brief.\n\n# Tools\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"string\"}}<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n<think>hmm</think>Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n",
            Render(Qwen, ("messages", Conversation), ("tools", tools), ("add_generation_prompt", false)));
    }

    [Fact]
    public void Mistral_style_template_refuses_roles_that_do_not_alternate()
    {
        var error = Assert.Throws<JinjaRaisedException>(() => RenderChat(Mistral, List(Message("assistant", "x"))));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
    }

    // The gateway's two-message conversation (its chat tests send this one).
    private static readonly List<object?> ShortConversation = [Message("system", "Be brief."), Message("user", " Hi ")];

    private static string RenderShort(string template, bool addGenerationPrompt = true) =>
        RenderChat(template, ShortConversation, addGenerationPrompt);

    // SmolLM2 / Qwen2 style (ChatML), with whitespace control.
    private const string ChatMl =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nDefault<|im_end|>\n' }}{% endif %}" +
        "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    [Fact]
    public void ChatMl_template_renders_each_message_and_the_generation_prompt()
    {
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n", RenderShort(ChatMl));
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n", RenderShort(ChatMl, addGenerationPrompt: false));
    }

    [Fact]
    public void Llama3_template_with_set_trim_filter_and_bos()
    {
        const string template =
            "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + " +
            "'<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}" +
            "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        Assert.Equal("<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
                     "<|start_header_id|>assistant<|end_header_id|>\n\n", RenderShort(template));
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
        Assert.Equal("<s>[INST] <<SYS>>Be brief.<</SYS>> Hi [/INST] #1", RenderShort(template));

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
}
