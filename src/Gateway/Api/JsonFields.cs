using System.Text.Json;

namespace PdServe.Gateway.Api;

/// <summary>
/// Typed reads of a request body's fields, each failing with a 400 that names the field and what it must be.
/// Absent and <c>null</c> fields are the same ("use the default"), as in OpenAI's API.
/// </summary>
public static class JsonFields
{
    public static bool TryGet(JsonElement body, string name, out JsonElement value)
    {
        if (body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public static string RequiredString(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) throw ApiException.InvalidField(name, $"'{name}' is required");
        if (value.ValueKind != JsonValueKind.String) throw ApiException.InvalidField(name, $"'{name}' must be a string");
        return Text(value, name);
    }

    public static string? OptionalString(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String) throw ApiException.InvalidField(name, $"'{name}' must be a string");
        return Text(value, name);
    }

    public static bool? OptionalBool(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.InvalidField(name, $"'{name}' must be a boolean"),
        };
    }

    /// <summary>An integer in [min, max]; a number with a fraction or out of range is refused, not rounded.</summary>
    public static int? OptionalInt(JsonElement body, string name, int min, int max)
    {
        if (!TryGet(body, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
            throw ApiException.InvalidField(name, $"'{name}' must be an integer");
        if (number < min || number > max)
            throw ApiException.InvalidField(name, $"'{name}' must be between {min} and {max}, got {number}");
        return (int)number;
    }

    public static long? OptionalLong(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
            throw ApiException.InvalidField(name, $"'{name}' must be a 64-bit integer");
        return number;
    }

    /// <summary>A finite number in [min, max] (or (min, max] with <paramref name="minExclusive"/>).</summary>
    public static double? OptionalNumber(JsonElement body, string name, double min, double max, bool minExclusive = false)
    {
        if (!TryGet(body, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
            throw ApiException.InvalidField(name, $"'{name}' must be a number");
        bool belowMin = minExclusive ? number <= min : number < min;
        if (belowMin || number > max)
            throw ApiException.InvalidField(name,
                $"'{name}' must be in {(minExclusive ? "(" : "[")}{min}, {max}], got {number}");
        return number;
    }

    /// <summary>A string value; an escaped lone surrogate (<c>"\ud800"</c>) is not text and is refused.</summary>
    public static string Text(JsonElement value, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ApiException.InvalidField(name, $"'{name}' is not valid Unicode text");
        }
    }
}
