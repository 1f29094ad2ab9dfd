using PdServe.ChatTemplates.Errors;
using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary><c>value is [not] test</c>: the tests chat templates use to check what they were given.</summary>
public sealed class IsTestTests
{
    [Theory]
    [InlineData("{{ none is none }} {{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ x is not none }}", "True True False True True")]
    [InlineData("{{ 'a' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }}", "True False True True")]
    [InlineData("{{ 1 is integer }} {{ 1.5 is integer }} {{ 1.5 is float }} {{ true is boolean }} {{ 1 is boolean }}", "True False True True False")]
    [InlineData("{{ true is true }} {{ 1 is true }} {{ false is false }}", "True False True")]
    [InlineData("{{ {} is mapping }} {{ [] is mapping }} {{ [1] is sequence }} {{ 'a' is sequence }} {{ {} is iterable }} {{ 1 is iterable }}", "True False True True True False")]
    [InlineData("{{ 3 is odd }} {{ 3 is even }} {{ 4 is even }}", "True False True")]
    [InlineData("{{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}", "True False")]
    [InlineData("{{ 'a' is eq 'a' }} {{ 1 is equalto 2 }} {{ x is not eq 1 }}", "True False False")]
    [InlineData("{{ ('a' is string) and (x is defined) }}", "True")]
    public void Tests_yield_booleans(string template, string expected)
    {
        Assert.Equal(expected, Render(template, ("x", 1L)));
    }

    [Fact]
    public void A_test_applies_to_the_whole_postfix_expression()
    {
        Assert.Equal("s", Render("{% if messages[0].content is string %}s{% endif %}", ("messages", List(Message("user", "c")))));
    }

    [Fact]
    public void An_unsupported_test_is_named()
    {
        var template = JinjaTemplate.Parse("{{ x is callable }}");
        var error = Assert.Throws<JinjaException>(() => template.Render(new Dictionary<string, object?> { ["x"] = 1L }));
        Assert.Equal("unsupported test 'callable'", error.Message);
    }
}
