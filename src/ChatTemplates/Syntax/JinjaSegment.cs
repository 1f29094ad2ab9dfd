namespace PdServe.ChatTemplates.Syntax;

/// <summary>
/// A piece of a template: literal text, an output tag's tokens, or a statement tag's tokens; <see cref="Offset"/> is
/// where the tag (or text) starts in the template.
/// </summary>
public sealed record JinjaSegment(JinjaSegmentKind Kind, string Text, IReadOnlyList<JinjaToken> Tokens, int Offset);
