using PdServe.ChatTemplates.Errors;
using PdServe.ChatTemplates.Syntax;

namespace PdServe.ChatTemplates.Tests;

/// <summary>The lexer: text and tags, the tokens inside tags with their offsets, comments, and its errors.</summary>
public sealed class LexerTests
{
    private static string Describe(JinjaSegment segment) => segment.Kind == JinjaSegmentKind.Text
        ? $"Text '{segment.Text}'"
        : $"{segment.Kind}@{segment.Offset} " + string.Join(" ", segment.Tokens.Select(t => $"{t.Kind}({t.Text})@{t.Offset}"));

    private static List<string> Lex(string template) => JinjaLexer.Lex(template).Select(Describe).ToList();

    [Fact]
    public void Text_and_an_output_tag_become_segments_with_token_offsets()
    {
        Assert.Equal(["Text 'Hello '", "Output@6 Name(name)@9 End()@14", "Text '!'"], Lex("Hello {{ name }}!"));
    }

    [Fact]
    public void A_statement_tag_lexes_names_and_operators()
    {
        Assert.Equal(["Statement@0 Name(if)@3 Name(a)@6 Operator(==)@8 Integer(1)@11 End()@13"], Lex("{% if a == 1 %}"));
    }

    [Fact]
    public void Numbers_are_integers_or_floats_and_a_dot_after_a_name_is_an_operator()
    {
        Assert.Equal(["Output@0 Integer(12)@3 Float(3.25)@6 Name(x)@11 Operator(.)@12 Name(y)@13 Operator([)@14 Integer(0)@15 Operator(])@16 End()@18"],
            Lex("{{ 12 3.25 x.y[0] }}"));
    }

    [Fact]
    public void Two_character_operators_are_one_token()
    {
        var tokens = JinjaLexer.Lex("{{ a == b != c <= d >= e // f ** g }}").Single().Tokens;
        Assert.Equal(["==", "!=", "<=", ">=", "//", "**"],
            tokens.Where(t => t.Kind == JinjaTokenKind.Operator).Select(t => t.Text).ToList());
    }

    [Fact]
    public void Single_character_operators_are_each_a_token()
    {
        var tokens = JinjaLexer.Lex("{{ +-*/%~|.,:()[]{}=<> }}").Single().Tokens;
        Assert.Equal("+-*/%~|.,:()[]{}=<>".Select(c => c.ToString()).ToList(),
            tokens.Where(t => t.Kind == JinjaTokenKind.Operator).Select(t => t.Text).ToList());
    }

    [Fact]
    public void String_literals_take_either_quote_and_unescape()
    {
        var tokens = JinjaLexer.Lex("""{{ 'it\'s' "a\tb\nc\\d" }}""").Single().Tokens;
        Assert.Equal([(JinjaTokenKind.String, "it's"), (JinjaTokenKind.String, "a\tb\nc\\d"), (JinjaTokenKind.End, "")],
            tokens.Select(t => (t.Kind, t.Text)).ToList());
    }

    [Fact]
    public void A_brace_that_opens_no_tag_is_text()
    {
        Assert.Equal(["Text '{\"a\": 1} { x'"], Lex("{\"a\": 1} { x"));
    }

    [Fact]
    public void Comments_leave_nothing()
    {
        Assert.Equal(["Text 'a'", "Text 'b'"], Lex("a{# a note, with {{ tags }} inside #}b"));
    }

    [Fact]
    public void Whitespace_control_markers_are_not_tokens()
    {
        Assert.Equal(["Text 'a'", "Statement@3 Name(if)@7 Name(x)@10 End()@12", "Text 'b'"], Lex("a  {%- if x -%}  b"));
    }

    [Fact]
    public void An_unterminated_string_is_reported_where_it_starts()
    {
        var error = Assert.Throws<JinjaException>(() => JinjaLexer.Lex("ab\n{{ 'abc }}"));
        Assert.Equal("unterminated string literal (line 2, column 4)", error.Message);
        Assert.Equal("unterminated string literal", error.Reason);
        Assert.Equal((2, 4), (error.Line, error.Column));
    }

    [Fact]
    public void An_unexpected_character_is_reported_where_it_stands()
    {
        var error = Assert.Throws<JinjaException>(() => JinjaLexer.Lex("{{ a $ b }}"));
        Assert.Equal("unexpected character '$' in a tag (line 1, column 6)", error.Message);
    }

    [Fact]
    public void An_unclosed_tag_is_reported_where_the_tag_opens()
    {
        var error = Assert.Throws<JinjaException>(() => JinjaLexer.Lex("x\n  {% if a "));
        Assert.Equal("unclosed tag, expected '%}' (line 2, column 3)", error.Message);
    }

    [Fact]
    public void An_unclosed_comment_is_reported_where_it_opens()
    {
        var error = Assert.Throws<JinjaException>(() => JinjaLexer.Lex("ok {# never closed"));
        Assert.Equal("unclosed comment (line 1, column 4)", error.Message);
    }
}
