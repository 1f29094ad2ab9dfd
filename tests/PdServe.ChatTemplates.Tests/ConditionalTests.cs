using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>If/elif/else and Python's truth of values.</summary>
public sealed class ConditionalTests
{
    private const string Chain = "{% if a %}A{% elif b %}B{% elif c %}C{% else %}D{% endif %}";

    [Theory]
    [InlineData(1L, "", 0L, "A")]
    [InlineData(0L, "b", 0L, "B")]
    [InlineData(0L, "", 1L, "C")]
    [InlineData(0L, "", 0L, "D")]
    public void The_first_true_branch_renders(long a, string b, long c, string expected)
    {
        Assert.Equal(expected, Render(Chain, ("a", a), ("b", b), ("c", c)));
    }

    [Fact]
    public void An_if_without_else_renders_nothing_when_false()
    {
        Assert.Equal("[]", Render("[{% if false %}x{% endif %}]"));
    }

    [Fact]
    public void Ifs_nest()
    {
        Assert.Equal("x", Render("{% if x %}{% if y %}xy{% else %}x{% endif %}{% endif %}", ("x", 1L), ("y", 0L)));
    }

    [Fact]
    public void Empty_and_zero_values_and_undefined_are_false()
    {
        Assert.Equal("f", Render("{% if [] or {} or '' or 0 or 0.0 or none or missing %}t{% else %}f{% endif %}"));
        Assert.Equal("t", Render("{% if [0] and {'a': 0} and ' ' and -1 and 0.5 %}t{% else %}f{% endif %}"));
    }

    [Fact]
    public void A_condition_reads_the_messages()
    {
        const string template = "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% else %}none{% endif %}";
        Assert.Equal("Be brief.", Render(template, ("messages", List(Message("system", "Be brief.")))));
        Assert.Equal("none", Render(template, ("messages", List(Message("user", "Hi")))));
    }
}
