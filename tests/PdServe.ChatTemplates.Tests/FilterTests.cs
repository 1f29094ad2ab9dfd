using PdServe.ChatTemplates.Errors;
using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>The filters chat templates use, each as Jinja renders it.</summary>
public sealed class FilterTests
{
    [Theory]
    [InlineData("{{ '  hi  ' | trim }}", "hi")]
    [InlineData("{{ 'Hello' | upper }} {{ 'Hello' | lower }}", "HELLO hello")]
    [InlineData("{{ 'hello WORLD' | capitalize }}", "Hello world")]
    [InlineData("{{ 'hello wORLD' | title }}", "Hello World")]
    [InlineData("{{ 'aXbX' | replace('X', '-') }}", "a-b-")]
    [InlineData("{{ 'a' | safe }}", "a")]
    [InlineData("{{ 1 | string ~ 'x' }} {{ none | string }} {{ true | string }}", "1x None True")]
    [InlineData("{{ ' a b ' | trim | upper | replace('A', 'z') }}", "z B")]
    public void String_filters(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ [1, 2, 3] | length }} {{ 'abc' | count }} {{ {'a': 1} | length }}", "3 3 1")]
    [InlineData("{{ [3] | length + 1 }}", "2")]
    [InlineData("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} [{{ [] | first }}]", "1 3 []")]
    [InlineData("{{ ['a', 'b'] | join(', ') }} {{ [1, 2] | join }} {{ ['x'] | join(d='-') }}", "a, b 12 x")]
    [InlineData("{{ 'ab' | list }}", "['a', 'b']")]
    [InlineData("{{ [1, 2, 3] | reverse | join(',') }} {{ 'abc' | reverse }}", "3,2,1 cba")]
    public void Sequence_filters(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ '42' | int + 1 }} {{ 3.9 | int }} {{ -2 | int }} {{ 'x' | int }}", "43 3 -2 0")]
    public void Int_converts_or_yields_zero(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ missing | default('d') }}", "d")]
    [InlineData("[{{ '' | default('d') }}]", "[]")]
    [InlineData("{{ '' | default('d', true) }}", "d")]
    [InlineData("{{ 0 | default('d', boolean=true) }}", "d")]
    [InlineData("{{ missing | d('y') }}", "y")]
    [InlineData("{{ 'set' | default('d') }}", "set")]
    public void Default_replaces_undefined_and_with_boolean_any_false_value(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Items_yields_key_value_pairs_for_a_loop()
    {
        Assert.Equal("a=1;b=2;", Render("{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", ("d", Map(("a", 1L), ("b", 2L)))));
    }

    [Fact]
    public void Tojson_writes_python_json_dumps_spacing()
    {
        var value = Map(("b", 1L), ("a", List(true, null, 1.5, "é")));
        Assert.Equal("""{"b": 1, "a": [true, null, 1.5, "é"]}""", Render("{{ value | tojson }}", ("value", value)));
    }

    [Fact]
    public void Tojson_escapes_only_what_json_requires()
    {
        Assert.Equal("\"line\\nnew \\\"q\\\" tab\\t é <&> \\\\ \\u0001\"",
            Render("{{ s | tojson }}", ("s", "line\nnew \"q\" tab\t é <&> \\ \u0001")));
    }

    [Fact]
    public void Tojson_indents_nested_containers()
    {
        var value = Map(("a", List(1L, 2L)), ("b", Map()));
        Assert.Equal("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}", Render("{{ value | tojson(indent=2) }}", ("value", value)));
    }

    [Fact]
    public void An_unsupported_filter_is_named()
    {
        var template = JinjaTemplate.Parse("{{ messages | selectattr('role', 'equalto', 'user') | list }}");
        var error = Assert.Throws<JinjaException>(() => template.Render(new Dictionary<string, object?> { ["messages"] = List() }));
        Assert.Equal("unsupported filter 'selectattr'", error.Message);
    }
}
