using System.Globalization;
using PdServe.ChatTemplates.Errors;
using PdServe.ChatTemplates.Expressions;
using PdServe.ChatTemplates.Statements;

namespace PdServe.ChatTemplates.Syntax;

/// <summary>
/// Parses lexed segments into statements: if/elif/else, for (with <c>loop</c>, filters, else), set (names and
/// namespace attributes), break/continue; <c>generation</c> blocks render their body. Expressions follow Jinja's
/// precedence: conditional, or, and, not, comparisons and <c>in</c>, + -, ~, * / // %, unary minus, then
/// attribute, subscript, call, <c>|filter</c> and <c>is test</c>. A syntax error names its line and column.
/// </summary>
public sealed class JinjaParser
{
    private static readonly HashSet<string> Comparisons = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly HashSet<string> TransparentTags = ["generation", "endgeneration"];

    private readonly string template;
    private readonly IReadOnlyList<JinjaSegment> segments;
    private int segment;
    /// <summary>The keyword of the last end tag <see cref="ParseBlock"/> stopped at, for errors about it.</summary>
    private JinjaToken endTag;
    private IReadOnlyList<JinjaToken> tokens = [];
    private int pos;

    private JinjaParser(string template, IReadOnlyList<JinjaSegment> segments)
    {
        this.template = template;
        this.segments = segments;
    }

    public static IReadOnlyList<JinjaNode> Parse(string template)
    {
        var parser = new JinjaParser(template, JinjaLexer.Lex(template));
        var nodes = parser.ParseBlock(out string? end);
        if (end is not null) throw parser.Error(parser.endTag, $"unexpected '{{% {end} %}}'");
        return nodes;
    }

    /// <summary>Parses statements until an end tag it does not own; returns that tag's keyword (null at the end).</summary>
    private List<JinjaNode> ParseBlock(out string? endKeyword)
    {
        var nodes = new List<JinjaNode>();
        while (segment < segments.Count)
        {
            var segment = segments[this.segment++];
            switch (segment.Kind)
            {
                case JinjaSegmentKind.Text:
                    nodes.Add(new TextNode(segment.Text));
                    continue;
                case JinjaSegmentKind.Output:
                    Begin(segment);
                    nodes.Add(new OutputNode(ParseExpression()));
                    ExpectEnd();
                    continue;
            }
            Begin(segment);
            var keywordToken = Current;
            string keyword = ExpectName();
            switch (keyword)
            {
                case "if":
                    nodes.Add(ParseIf(keywordToken));
                    break;
                case "for":
                    nodes.Add(ParseFor(keywordToken));
                    break;
                case "set":
                    nodes.Add(ParseSet());
                    break;
                case "break":
                    ExpectEnd();
                    nodes.Add(new LoopControlNode(JinjaFlow.Break));
                    break;
                case "continue":
                    ExpectEnd();
                    nodes.Add(new LoopControlNode(JinjaFlow.Continue));
                    break;
                case var tag when TransparentTags.Contains(tag):
                    ExpectEnd();
                    break;
                case "elif" or "else" or "endif" or "endfor":
                    endTag = keywordToken;
                    endKeyword = keyword;
                    return nodes;
                default:
                    throw Error(keywordToken, $"unsupported tag '{{% {keyword} %}}'");
            }
        }
        endKeyword = null;
        return nodes;
    }

    private IfNode ParseIf(JinjaToken opening)
    {
        var branches = new List<(JinjaExpression, IReadOnlyList<JinjaNode>)>();
        var condition = ParseExpression();
        ExpectEnd();
        while (true)
        {
            var body = ParseBlock(out string? end);
            branches.Add((condition, body));
            switch (end)
            {
                case "elif":
                    condition = ParseExpression();
                    ExpectEnd();
                    continue;
                case "else":
                    ExpectEnd();
                    var elseBody = ParseBlock(out string? close);
                    if (close != "endif") throw Error(opening, "'if' without 'endif'");
                    ExpectEnd();
                    return new IfNode(branches, elseBody);
                case "endif":
                    ExpectEnd();
                    return new IfNode(branches, []);
                default:
                    throw Error(opening, "'if' without 'endif'");
            }
        }
    }

    private ForNode ParseFor(JinjaToken opening)
    {
        var targets = new List<string> { ExpectName() };
        while (Accept(","))
            targets.Add(ExpectName());
        if (!Current.IsName("in")) throw Error(Current, "expected 'in' in a for tag");
        pos++;
        var items = ParseOr();
        JinjaExpression? filter = null;
        if (Current.IsName("if"))
        {
            pos++;
            filter = ParseOr();
        }
        ExpectEnd();
        var body = ParseBlock(out string? end);
        IReadOnlyList<JinjaNode> elseBody = [];
        if (end == "else")
        {
            ExpectEnd();
            elseBody = ParseBlock(out end);
        }
        if (end != "endfor") throw Error(opening, "'for' without 'endfor'");
        ExpectEnd();
        return new ForNode(targets, items, filter, body, elseBody);
    }

    private SetNode ParseSet()
    {
        string name = ExpectName();
        string? attribute = Accept(".") ? ExpectName() : null;
        if (!Accept("=")) throw Error(Current, "block 'set' is not supported; use {% set name = value %}");
        var value = ParseExpression();
        ExpectEnd();
        return new SetNode(name, attribute, value);
    }

    private void Begin(JinjaSegment segment)
    {
        tokens = segment.Tokens;
        pos = 0;
    }

    private JinjaToken Current => tokens[pos];

    private bool Accept(string op)
    {
        if (!Current.Is(op)) return false;
        pos++;
        return true;
    }

    private void Expect(string op)
    {
        if (!Accept(op)) throw Error(Current, $"expected '{op}', found '{Current.Text}'");
    }

    private string ExpectName()
    {
        if (Current.Kind != JinjaTokenKind.Name) throw Error(Current, $"expected a name, found '{Current.Text}'");
        return tokens[pos++].Text;
    }

    private void ExpectEnd()
    {
        if (Current.Kind != JinjaTokenKind.End) throw Error(Current, $"unexpected '{Current.Text}' in a tag");
    }

    private JinjaException Error(JinjaToken at, string reason) => JinjaException.At(template, at.Offset, reason);

    private JinjaExpression ParseExpression()
    {
        var value = ParseOr();
        if (!Current.IsName("if")) return value;
        pos++;
        var condition = ParseOr();
        JinjaExpression? otherwise = null;
        if (Current.IsName("else"))
        {
            pos++;
            otherwise = ParseExpression();
        }
        return new ConditionalExpression(condition, value, otherwise);
    }

    private JinjaExpression ParseOr() => ParseLogical("or", ParseAnd);

    private JinjaExpression ParseAnd() => ParseLogical("and", ParseNot);

    private JinjaExpression ParseLogical(string keyword, Func<JinjaExpression> parseOperand)
    {
        var left = parseOperand();
        while (Current.IsName(keyword))
        {
            pos++;
            left = new LogicalExpression(left, keyword, parseOperand());
        }
        return left;
    }

    private JinjaExpression ParseNot()
    {
        if (!Current.IsName("not")) return ParseComparison();
        pos++;
        return new NotExpression(ParseNot());
    }

    private JinjaExpression ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            if (Current.Kind == JinjaTokenKind.Operator && Comparisons.Contains(Current.Text))
            {
                string op = tokens[pos++].Text;
                left = new BinaryExpression(left, op, ParseAdditive());
            }
            else if (Current.IsName("in"))
            {
                pos++;
                left = new BinaryExpression(left, "in", ParseAdditive());
            }
            else if (Current.IsName("not") && tokens[pos + 1].IsName("in"))
            {
                pos += 2;
                left = new BinaryExpression(left, "not in", ParseAdditive());
            }
            else
                return left;
        }
    }

    private JinjaExpression ParseAdditive()
    {
        var left = ParseConcat();
        while (Current.Is("+") || Current.Is("-"))
        {
            string op = tokens[pos++].Text;
            left = new BinaryExpression(left, op, ParseConcat());
        }
        return left;
    }

    private JinjaExpression ParseConcat()
    {
        var left = ParseMultiplicative();
        while (Accept("~"))
            left = new BinaryExpression(left, "~", ParseMultiplicative());
        return left;
    }

    private JinjaExpression ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Current.Is("*") || Current.Is("/") || Current.Is("//") || Current.Is("%"))
        {
            string op = tokens[pos++].Text;
            left = new BinaryExpression(left, op, ParseUnary());
        }
        return left;
    }

    private JinjaExpression ParseUnary()
    {
        if (Accept("-")) return new NegateExpression(ParseUnary());
        if (Accept("+")) return ParseUnary();
        return ParseFiltersAndTests(ParsePostfix(ParsePrimary()));
    }

    private JinjaExpression ParsePrimary()
    {
        var token = tokens[pos++];
        switch (token.Kind)
        {
            case JinjaTokenKind.String:
                string text = token.Text;
                // Adjacent string literals concatenate, as in Python.
                while (Current.Kind == JinjaTokenKind.String) text += tokens[pos++].Text;
                return new LiteralExpression(text);
            case JinjaTokenKind.Integer:
                return new LiteralExpression(long.Parse(token.Text, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Float:
                return new LiteralExpression(double.Parse(token.Text, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpression(true),
                    "false" or "False" => new LiteralExpression(false),
                    "none" or "None" => new LiteralExpression(null),
                    _ => new NameExpression(token.Text),
                };
        }
        if (token.Is("("))
        {
            var inner = ParseExpression();
            Expect(")");
            return inner;
        }
        if (token.Is("["))
        {
            var items = new List<JinjaExpression>();
            while (!Accept("]"))
            {
                items.Add(ParseExpression());
                if (!Current.Is("]")) Expect(",");
            }
            return new ListExpression(items);
        }
        if (token.Is("{"))
        {
            var entries = new List<(JinjaExpression, JinjaExpression)>();
            while (!Accept("}"))
            {
                var key = ParseExpression();
                Expect(":");
                entries.Add((key, ParseExpression()));
                if (!Current.Is("}")) Expect(",");
            }
            return new DictExpression(entries);
        }
        throw Error(token, token.Kind == JinjaTokenKind.End ? "unexpected end of tag" : $"unexpected '{token.Text}'");
    }

    private JinjaExpression ParsePostfix(JinjaExpression target)
    {
        while (true)
        {
            if (Accept("."))
                target = new AttributeExpression(target, ExpectName());
            else if (Accept("["))
                target = ParseSubscript(target);
            else if (Current.Is("("))
                target = ParseCall(target);
            else
                return target;
        }
    }

    private JinjaExpression ParseSubscript(JinjaExpression target)
    {
        JinjaExpression? start = Current.Is(":") ? null : ParseExpression();
        if (Accept("]")) return new SubscriptExpression(target, start, null, null, null, IsSlice: false);
        Expect(":");
        JinjaExpression? stop = Current.Is(":") || Current.Is("]") ? null : ParseExpression();
        JinjaExpression? step = null;
        if (Accept(":") && !Current.Is("]")) step = ParseExpression();
        Expect("]");
        return new SubscriptExpression(target, null, start, stop, step, IsSlice: true);
    }

    private CallExpression ParseCall(JinjaExpression target)
    {
        var (args, kwargs) = ParseArguments();
        return new CallExpression(target, args, kwargs);
    }

    private (List<JinjaExpression>, List<(string, JinjaExpression)>) ParseArguments()
    {
        var args = new List<JinjaExpression>();
        var kwargs = new List<(string, JinjaExpression)>();
        Expect("(");
        while (!Accept(")"))
        {
            if (Current.Kind == JinjaTokenKind.Name && tokens[pos + 1].Is("="))
            {
                string name = tokens[pos].Text;
                pos += 2;
                kwargs.Add((name, ParseExpression()));
            }
            else
                args.Add(ParseExpression());
            if (!Current.Is(")")) Expect(",");
        }
        return (args, kwargs);
    }

    private JinjaExpression ParseFiltersAndTests(JinjaExpression target)
    {
        while (true)
        {
            if (Accept("|"))
            {
                string name = ExpectName();
                var (args, kwargs) = Current.Is("(") ? ParseArguments() : ([], []);
                target = new FilterExpression(target, name, args, kwargs);
            }
            else if (Current.IsName("is"))
            {
                pos++;
                bool negated = false;
                if (Current.IsName("not"))
                {
                    pos++;
                    negated = true;
                }
                string name = Current.Kind == JinjaTokenKind.Name ? ExpectName()
                    : Current.Is("==") ? tokens[pos++].Text : throw Error(Current, "expected a test name after 'is'");
                var args = new List<JinjaExpression>();
                if (Current.Is("("))
                    args = ParseArguments().Item1;
                else if (Current.Kind is JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float)
                    args.Add(ParsePrimary());
                target = new TestExpression(target, name == "==" ? "eq" : name, args, negated);
            }
            else
                return target;
        }
    }
}
