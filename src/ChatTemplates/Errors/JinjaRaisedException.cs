namespace PdServe.ChatTemplates.Errors;

/// <summary>The template itself called <c>raise_exception(message)</c>: the messages break its rules.</summary>
public sealed class JinjaRaisedException(string message) : Exception(message);
