using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>The Python string and dict methods chat templates call on their values.</summary>
public sealed class MethodTests
{
    [Theory]
    [InlineData("[{{ '  a  '.strip() }}] {{ 'xxaxx'.strip('x') }}", "[a] a")]
    [InlineData("[{{ '  a  '.lstrip() }}] [{{ '  a  '.rstrip() }}] {{ 'ab.'.rstrip('.') }} {{ '--a'.lstrip('-') }}", "[a  ] [  a] ab a")]
    [InlineData("{{ 'ab'.upper() }} {{ 'AB'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}", "AB ab Hello World Hello")]
    [InlineData("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('ab') }}", "True False")]
    [InlineData("{{ 'a-b-c'.replace('-', '+') }}", "a+b+c")]
    [InlineData("{{ ' a b  c '.split() }} {{ 'a,b,,c'.split(',') }}", "['a', 'b', 'c'] ['a', 'b', '', 'c']")]
    [InlineData("{{ 'x</think>y'.split('</think>')[-1] }}", "y")]
    [InlineData("[{{ 'abc'.nosuch }}]", "[]")]
    public void String_methods(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Dict_methods()
    {
        var d = Map(("a", 1L), ("b", "two"));
        Assert.Equal("a=1;b=two; ['a', 'b'] [1, 'two']",
            Render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.keys() | list }} {{ d.values() | list }}", ("d", d)));
        Assert.Equal("1 dflt None", Render("{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }}", ("d", d)));
    }
}
