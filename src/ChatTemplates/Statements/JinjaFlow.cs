namespace PdServe.ChatTemplates.Statements;

/// <summary>How rendering a node ended: normally, or at a <c>{% break %}</c> / <c>{% continue %}</c>.</summary>
public enum JinjaFlow { Normal, Break, Continue }
