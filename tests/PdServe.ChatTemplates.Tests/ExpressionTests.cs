using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>Expressions: literals as Python prints them, operators and their precedence, access to items and slices.</summary>
public sealed class ExpressionTests
{
    [Theory]
    [InlineData("{{ 1 + 2 * 3 - 4 }}", "3")]
    [InlineData("{{ (1 + 2) * 3 }}", "9")]
    [InlineData("{{ 10 - 2 - 3 }}", "5")]
    [InlineData("{{ -2 * 3 }}", "-6")]
    [InlineData("{{ +4 }}", "4")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }}", "3 -4")]
    [InlineData("{{ 7 % 3 }} {{ 7 % -3 }} {{ -7 % 3 }}", "1 -2 2")]
    [InlineData("{{ 7 / 2 }} {{ 4 / 2 }}", "3.5 2.0")]
    [InlineData("{{ 1 + 1.5 }} {{ 3 - 0.5 }} {{ 2 * 2.5 }} {{ -1.5 }}", "2.5 2.5 5.0 -1.5")]
    [InlineData("{{ 0.1 + 0.2 }}", "0.30000000000000004")]
    public void Arithmetic_follows_python(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ 'a' + 'b' }}", "ab")]
    [InlineData("{{ 'ab' * 3 }}", "ababab")]
    [InlineData("{{ 'a' 'b' }}", "ab")]
    [InlineData("{{ 'x' ~ none ~ true ~ 1.0 ~ 2 }}", "xNoneTrue1.02")]
    [InlineData("{{ 2 * 3 ~ 4 }}", "64")]
    [InlineData("{{ [1, 2] + [3] }}", "[1, 2, 3]")]
    public void Strings_and_lists_concatenate(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 3 >= 3 }} {{ 1 != 2 }}", "True True False True True")]
    [InlineData("{{ 'a' == 'a' }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ [1, 2] == [1, 2] }} {{ none == none }}", "True True True True True")]
    [InlineData("{{ 'a' == 1 }} {{ 'a' != 1 }}", "False True")]
    [InlineData("{{ 3 in [1, 2, 3] }} {{ 'b' in 'abc' }} {{ 'k' in {'k': 1} }} {{ 4 not in [1] }} {{ not 4 in [1] }}", "True True True True True")]
    public void Comparisons_and_membership_yield_booleans(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ 0 or '' or 'last' }}", "last")]
    [InlineData("{{ 1 and 'b' }}", "b")]
    [InlineData("{{ [] and 1 }}", "[]")]
    [InlineData("{{ not [] }} {{ not 'x' }} {{ not none }} {{ not missing }}", "True False True True")]
    [InlineData("{{ not true or true }}", "True")]
    [InlineData("{{ false and missing.attribute }}", "False")]
    public void Logic_short_circuits_and_yields_an_operand(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ 'yes' if 1 else 'no' }}|{{ 'yes' if 0 else 'no' }}", "yes|no")]
    [InlineData("[{{ 'a' if false }}]", "[]")]
    [InlineData("{{ 1 if false else 2 if false else 3 }}", "3")]
    public void Conditional_expressions_choose_a_branch(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ [1, 'a', none, true, false, 2.5, [2]] }}", "[1, 'a', None, True, False, 2.5, [2]]")]
    [InlineData("{{ {'k': 'v', 'n': 1} }}", "{'k': 'v', 'n': 1}")]
    [InlineData("{{ True }} {{ False }} {{ None }}", "True False None")]
    [InlineData("[{{ missing }}]", "[]")]
    public void Values_print_as_python_prints_them(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{{ [1, 2, 3][-1] }}", "3")]
    [InlineData("{{ [1, 2, 3][1:] }}", "[2, 3]")]
    [InlineData("{{ [1, 2, 3, 4][-2:] }}", "[3, 4]")]
    [InlineData("{{ [1, 2, 3, 4][::2] }}", "[1, 3]")]
    [InlineData("{{ [1, 2, 3, 4][:-1] }}", "[1, 2, 3]")]
    [InlineData("{{ [1, 2, 3][::-1] }}", "[3, 2, 1]")]
    [InlineData("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'abc'[0] }} {{ 'abc'[-1] }}", "el olleh a c")]
    [InlineData("[{{ [1][5] }}]", "[]")]
    public void Subscripts_and_slices_follow_python(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Mapping_keys_are_reached_by_attribute_or_subscript()
    {
        var d = Map(("a", 1L), ("b", "B"), ("nested", Map(("c", List("x", "y")))));
        Assert.Equal("1|B|[]|2|y", Render("{{ d.a }}|{{ d['b'] }}|[{{ d.missing }}]|{{ d['a'] + 1 }}|{{ d.nested.c[1] }}", ("d", d)));
    }

    [Fact]
    public void Variables_passed_in_are_read_by_name()
    {
        Assert.Equal("<s>Hi</s>", Render("{{ bos_token }}{{ text }}{{ eos_token }}", ("bos_token", "<s>"), ("text", "Hi"), ("eos_token", "</s>")));
    }

    [Fact]
    public void Power_is_outside_the_subset()
    {
        var error = Assert.Throws<PdServe.ChatTemplates.Errors.JinjaException>(() => JinjaTemplate.Parse("{{ 2 ** 3 }}"));
        Assert.Equal("unexpected '**' in a tag (line 1, column 6)", error.Message);
    }
}
