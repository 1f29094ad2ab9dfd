using PdServe.ChatTemplates.Errors;
using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>For loops: the loop variable, else, filters, unpacking, break/continue, nesting and scope.</summary>
public sealed class LoopTests
{
    [Fact]
    public void The_loop_variable_counts_from_both_ends()
    {
        Assert.Equal("1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;",
            Render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"));
    }

    [Fact]
    public void The_loop_variable_knows_the_previous_and_next_items()
    {
        Assert.Equal("-2;1-3;2-;", Render("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}"));
    }

    [Fact]
    public void Else_renders_when_there_is_nothing_to_iterate()
    {
        Assert.Equal("empty|1", Render("{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}"));
    }

    [Fact]
    public void A_loop_filter_drops_items_before_counting()
    {
        Assert.Equal("1False2True|none",
            Render("{% for x in [1, 2, 3] if x > 1 %}{{ loop.index }}{{ loop.last }}{% else %}none{% endfor %}|{% for x in [1] if x > 5 %}{{ x }}{% else %}none{% endfor %}"));
    }

    [Fact]
    public void A_loop_filter_reads_the_loop_target()
    {
        var messages = List(Message("system", "s"), Message("user", "u"), Message("assistant", "a"));
        Assert.Equal("1:user 2:assistant ", Render("{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", ("messages", messages)));
    }

    [Fact]
    public void Nested_loops_each_have_their_own_loop_variable()
    {
        Assert.Equal("1a1 1b2 1;2a1 2b2 2;",
            Render("{% for x in [1, 2] %}{% for y in ['a', 'b'] %}{{ x }}{{ y }}{{ loop.index }} {% endfor %}{{ loop.index }};{% endfor %}"));
    }

    [Fact]
    public void Strings_iterate_by_character_and_mappings_by_key()
    {
        Assert.Equal("[a][b]xy", Render("{% for c in 'ab' %}[{{ c }}]{% endfor %}{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}"));
    }

    [Fact]
    public void Break_and_continue_control_the_loop()
    {
        Assert.Equal("13", Render("{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"));
    }

    [Fact]
    public void Targets_unpack_pairs()
    {
        Assert.Equal("3 7 ", Render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}"));
    }

    [Fact]
    public void Unpacking_the_wrong_number_of_values_fails()
    {
        var error = Assert.Throws<JinjaException>(() => Render("{% for a, b in [[1, 2, 3]] %}{% endfor %}"));
        Assert.Equal("cannot unpack 3 values into 2 names", error.Message);
    }

    [Fact]
    public void A_set_inside_a_loop_does_not_leak_out()
    {
        Assert.Equal("21", Render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"));
        Assert.Equal("[]", Render("{% for i in [1, 2] %}{% set y = i %}{% endfor %}[{{ y }}]"));
    }

    [Fact]
    public void Loop_last_separates_items()
    {
        Assert.Equal("1,2,3", Render("{% for x in [1, 2, 3] %}{{ x }}{{ ',' if not loop.last }}{% endfor %}"));
    }

    [Fact]
    public void Iterating_a_number_fails()
    {
        var error = Assert.Throws<JinjaException>(() => Render("{% for x in 3 %}{% endfor %}"));
        Assert.Equal("cannot iterate over integer", error.Message);
    }
}
