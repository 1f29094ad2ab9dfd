using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>
/// Whitespace as Hugging Face renders chat templates: <c>-</c> markers trim, block tags drop the newline after them
/// (trim_blocks) and the indentation before them (lstrip_blocks); output tags keep both.
/// </summary>
public sealed class WhitespaceControlTests
{
    [Theory]
    [InlineData("{%- if true -%}  yes  {%- endif -%}", "yes")]
    [InlineData("a  {{- 'b' -}}  c", "abc")]
    [InlineData("a\n\n  {{- ' b ' }}\n\nc", "a b \n\nc")]
    [InlineData("{{ 'a' -}}\n\n   b", "ab")]
    [InlineData("{% for m in [1, 2] -%}\n  {{ m }}\n{%- endfor %}", "12")]
    [InlineData("x\n  {#- c -#}\n  y", "xy")]
    public void Minus_markers_trim_all_whitespace_on_their_side(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{% if true %}\nyes\n{% endif %}\nend", "yes\nend")]
    [InlineData("{% if true %}\r\nx{% endif %}", "x")]
    [InlineData("x {# c #}\ny", "x y")]
    [InlineData("{% for m in [1, 2] %}\n  {{ m }}\n{% endfor %}\n", "  1\n  2\n")]
    public void Block_tags_drop_the_newline_after_them(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("  {% if true %}\n  x\n  {% endif %}\nend", "  x\nend")]
    [InlineData("a\n    {% if true %}b{% endif %}   \nc", "a\nb   \nc")]
    [InlineData("text {% if true %}inline{% endif %} more", "text inline more")]
    public void Block_tags_on_their_own_line_drop_its_indentation(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Output_tags_keep_surrounding_whitespace()
    {
        Assert.Equal("  x\n  y", Render("  {{ 'x' }}\n  {{ 'y' }}"));
    }
}
