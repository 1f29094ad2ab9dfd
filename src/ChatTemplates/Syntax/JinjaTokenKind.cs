namespace PdServe.ChatTemplates.Syntax;

public enum JinjaTokenKind { Name, String, Integer, Float, Operator, End }
