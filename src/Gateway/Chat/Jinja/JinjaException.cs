namespace PdServe.Gateway.Chat.Jinja;

/// <summary>A template that uses syntax outside the supported subset, or fails while rendering.</summary>
public sealed class JinjaException(string message) : Exception(message);

/// <summary>The template itself called <c>raise_exception(message)</c>: the messages break its rules.</summary>
public sealed class JinjaRaisedException(string message) : Exception(message);
