namespace PdServe.ChatTemplates.Syntax;

public enum JinjaSegmentKind { Text, Output, Statement }
