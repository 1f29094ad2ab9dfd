namespace PdServe.Gateway.Chat.Jinja;

public enum JinjaSegmentKind { Text, Output, Statement }

/// <summary>A piece of a template: literal text, an output tag's tokens, or a statement tag's tokens.</summary>
public sealed record JinjaSegment(JinjaSegmentKind Kind, string Text, IReadOnlyList<JinjaToken> Tokens);
