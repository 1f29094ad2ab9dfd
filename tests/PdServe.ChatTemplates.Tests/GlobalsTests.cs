using System.Globalization;
using PdServe.ChatTemplates.Errors;

using static PdServe.ChatTemplates.Tests.Template;

namespace PdServe.ChatTemplates.Tests;

/// <summary>The global functions: range, namespace, raise_exception and strftime_now.</summary>
public sealed class GlobalsTests
{
    [Theory]
    [InlineData("{{ range(3) | list }}", "[0, 1, 2]")]
    [InlineData("{{ range(1, 4) | list }}", "[1, 2, 3]")]
    [InlineData("{{ range(10, 0, -3) | list }}", "[10, 7, 4, 1]")]
    [InlineData("{{ range(0) | list }} {{ range(3, 1) | list }}", "[] []")]
    [InlineData("{% for i in range(2) %}{{ i }}{% endfor %}", "01")]
    public void Range_counts_like_python(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Range_refuses_a_zero_step()
    {
        var error = Assert.Throws<JinjaException>(() => Render("{{ range(0, 5, 0) }}"));
        Assert.Equal("range() step must not be zero", error.Message);
    }

    [Fact]
    public void A_namespace_carries_state_out_of_a_loop()
    {
        Assert.Equal("6 False",
            Render("{% set ns = namespace(count=0, seen=false) %}{% for m in [1, 2, 3] %}{% set ns.count = ns.count + m %}{% endfor %}{{ ns.count }} {{ ns.seen }}"));
    }

    [Fact]
    public void Setting_an_attribute_of_something_not_a_namespace_fails()
    {
        var error = Assert.Throws<JinjaException>(() => Render("{% set d.x = 1 %}", ("d", Map())));
        Assert.Equal("cannot set an attribute of 'd', which is not a namespace", error.Message);
    }

    [Fact]
    public void Raise_exception_refuses_the_input_with_the_template_s_message()
    {
        var error = Assert.Throws<JinjaRaisedException>(() =>
            Render("{% if messages | length == 0 %}{{ raise_exception('No messages: ' ~ messages | length) }}{% endif %}", ("messages", List())));
        Assert.Equal("No messages: 0", error.Message);
    }

    [Fact]
    public void Raise_exception_stops_rendering_where_it_is_called()
    {
        var template = JinjaTemplate.Parse("a{% if fail %}{{ raise_exception('stop') }}{% endif %}b");
        Assert.Equal("ab", template.Render(new Dictionary<string, object?> { ["fail"] = false }));
        Assert.Throws<JinjaRaisedException>(() => template.Render(new Dictionary<string, object?> { ["fail"] = true }));
    }

    [Fact]
    public void Calling_something_that_is_not_a_function_fails_naming_it()
    {
        var error = Assert.Throws<JinjaException>(() => Render("{{ bos_token() }}", ("bos_token", "<s>")));
        Assert.Equal("bos_token is not callable", error.Message);
    }

    [Fact]
    public void Strftime_now_formats_the_local_date()
    {
        DateTime before = DateTime.Now;
        string rendered = Render("{{ strftime_now('%d %B %Y, %H:%M:%S %%') }}|{{ strftime_now('%b %y %m') }}");
        DateTime after = DateTime.Now;
        string Expected(DateTime t) =>
            t.ToString("dd MMMM yyyy, HH:mm:ss", CultureInfo.InvariantCulture) + " %|" + t.ToString("MMM yy MM", CultureInfo.InvariantCulture);
        Assert.Contains(rendered, new[] { Expected(before), Expected(after) });
    }
}
