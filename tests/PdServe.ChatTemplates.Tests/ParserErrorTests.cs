using PdServe.ChatTemplates.Errors;

namespace PdServe.ChatTemplates.Tests;

/// <summary>Templates outside the subset are refused when parsed, with what is wrong and where (line, column).</summary>
public sealed class ParserErrorTests
{
    private static JinjaException ParseError(string template) => Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));

    [Theory]
    [InlineData("{% for x of items %}{% endfor %}", "expected 'in' in a for tag (line 1, column 10)")]
    [InlineData("{% endfor %}", "unexpected '{% endfor %}' (line 1, column 4)")]
    [InlineData("a\n{% else %}", "unexpected '{% else %}' (line 2, column 4)")]
    [InlineData("{% macro m() %}x{% endmacro %}", "unsupported tag '{% macro %}' (line 1, column 4)")]
    [InlineData("{{ a + }}", "unexpected end of tag (line 1, column 8)")]
    [InlineData("{{ (a }}", "expected ')', found '' (line 1, column 7)")]
    [InlineData("{{ a b }}", "unexpected 'b' in a tag (line 1, column 6)")]
    [InlineData("{{ [1 2] }}", "expected ',', found '2' (line 1, column 7)")]
    [InlineData("{{ {'a' 1} }}", "expected ':', found '1' (line 1, column 9)")]
    [InlineData("{{ x is }}", "expected a test name after 'is' (line 1, column 9)")]
    [InlineData("{{ x | 1 }}", "expected a name, found '1' (line 1, column 8)")]
    [InlineData("{% set x %}y{% endset %}", "block 'set' is not supported; use {% set name = value %} (line 1, column 10)")]
    [InlineData("{% if x %}{{ x }} {% endif extra %}", "unexpected 'extra' in a tag (line 1, column 28)")]
    public void A_syntax_error_names_its_line_and_column(string template, string message)
    {
        Assert.Equal(message, ParseError(template).Message);
    }

    [Fact]
    public void An_unclosed_if_is_reported_at_its_opening_tag()
    {
        var error = ParseError("Hello\n  {%- if user %}\n{{ user }}\n");
        Assert.Equal("'if' without 'endif'", error.Reason);
        Assert.Equal((2, 7), (error.Line, error.Column));
    }

    [Fact]
    public void An_if_after_its_else_must_close_with_endif()
    {
        Assert.Equal("'if' without 'endif' (line 1, column 4)", ParseError("{% if a %}x{% else %}y{% endfor %}").Message);
    }

    [Fact]
    public void A_for_closed_by_the_wrong_tag_is_reported_at_the_for()
    {
        Assert.Equal("'for' without 'endfor' (line 1, column 6)", ParseError("x {% for m in messages %}{{ m }}{% endif %}").Message);
    }

    [Fact]
    public void Errors_while_rendering_have_no_position()
    {
        var template = JinjaTemplate.Parse("{{ name | shout }}");
        var error = Assert.Throws<JinjaException>(() => template.Render(new Dictionary<string, object?> { ["name"] = "x" }));
        Assert.Equal("unsupported filter 'shout'", error.Message);
        Assert.Null(error.Line);
        Assert.Null(error.Column);
    }
}
