using System.Text.RegularExpressions;

namespace PdServe.Gateway.Generation;

/// <summary>
/// A node's status detail made fit for a client: only a request fault's detail is passed on (it says what was wrong
/// with the request), and even that loses anything that looks like a network address, in case a node names one.
/// </summary>
public static partial class NodeDetailText
{
    private const int MaxLength = 300;

    public static string ForClient(string detail)
    {
        string text = Address().Replace(detail, "[address]").Trim();
        if (text.Length == 0) return "a node refused it";
        return text.Length <= MaxLength ? text : text[..MaxLength] + "…";
    }

    // URLs of any scheme (up to a space, quote or closing punctuation), bracketed IPv6 literals and IPv4 literals, each with an optional port.
    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'""<>(),;\]]*|\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b")]
    private static partial Regex Address();
}
