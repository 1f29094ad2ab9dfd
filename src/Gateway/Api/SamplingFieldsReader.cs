using System.Text.Json;
using PdServe.Gateway.Generation;
using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary>
/// The fields completions and chat share: model, sampling, stop, n, stream, user, vLLM's <c>ignore_eos</c>; and the fields PdServe does not
/// implement, refused when they ask for something other than the default so that no request is silently changed.
/// </summary>
public static class SamplingFieldsReader
{
    public static void CheckModel(JsonElement body, ServedModel model)
    {
        string requested = JsonFields.RequiredString(body, "model");
        if (!string.Equals(requested, model.Id, StringComparison.Ordinal))
            throw ApiException.UnknownModel(requested);
    }

    /// <summary>Reads the shared fields into <paramref name="parameters"/> (prompts and max tokens come from the caller).</summary>
    public static GenerationParameters Read(JsonElement body, GenerationParameters parameters, RequestLimits limits)
    {
        RefuseUnsupported(body);
        bool stream = JsonFields.OptionalBool(body, "stream") ?? false;
        bool includeUsage = false;
        if (JsonFields.TryGet(body, "stream_options", out var streamOptions))
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
                throw ApiException.InvalidField("stream_options", "'stream_options' must be an object");
            if (!stream)
                throw ApiException.InvalidField("stream_options", "'stream_options' is only allowed when 'stream' is true");
            includeUsage = JsonFields.OptionalBool(streamOptions, "include_usage") ?? false;
        }
        long? seed = JsonFields.OptionalLong(body, "seed");
        int? topK = JsonFields.OptionalInt(body, "top_k", -1, int.MaxValue);
        float topP = (float)(JsonFields.OptionalNumber(body, "top_p", 0, 1, minExclusive: true) ?? 1.0);
        // The nodes take top_p as a float, where 0 means "unset" (1): a value too small for a float would silently
        // become no nucleus at all.
        if (topP == 0f) throw ApiException.InvalidField("top_p", "'top_p' is too small: it must be at least 1.4e-45");
        float temperature = (float)(JsonFields.OptionalNumber(body, "temperature", 0, 2) ?? 1.0);
        var stop = ReadStop(body, limits);
        int n = JsonFields.OptionalInt(body, "n", 1, limits.MaxN) ?? 1;
        // OpenAI's end-user id: checked to be a string, otherwise unused.
        JsonFields.OptionalString(body, "user");
        return parameters with
        {
            Temperature = temperature,
            TopP = topP,
            // -1 is vLLM's spelling of "off"; the node's is 0.
            TopK = topK is null or -1 ? 0 : topK.Value,
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            Stop = stop,
            N = n,
            Stream = stream,
            IncludeUsage = includeUsage,
            IgnoreEos = JsonFields.OptionalBool(body, "ignore_eos") ?? false,
        };
    }

    private static IReadOnlyList<string> ReadStop(JsonElement body, RequestLimits limits)
    {
        if (!JsonFields.TryGet(body, "stop", out var stop)) return [];
        List<string> strings;
        if (stop.ValueKind == JsonValueKind.String)
            strings = [JsonFields.Text(stop, "stop")];
        else if (stop.ValueKind == JsonValueKind.Array)
        {
            if (stop.GetArrayLength() > limits.MaxStopStrings)
                throw ApiException.InvalidField("stop", $"'stop' may hold at most {limits.MaxStopStrings} strings");
            strings = [];
            foreach (var item in stop.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw ApiException.InvalidField("stop", "'stop' must be a string or a list of strings");
                strings.Add(JsonFields.Text(item, "stop"));
            }
        }
        else
            throw ApiException.InvalidField("stop", "'stop' must be a string or a list of strings");

        foreach (string s in strings)
        {
            if (s.Length == 0) throw ApiException.InvalidField("stop", "'stop' strings must not be empty");
            if (s.Length > limits.MaxStopStringLength)
                throw ApiException.InvalidField("stop", $"'stop' strings may be at most {limits.MaxStopStringLength} characters");
        }
        return strings;
    }

    private static void RefuseUnsupported(JsonElement body)
    {
        foreach (string penalty in (string[])["presence_penalty", "frequency_penalty"])
        {
            if (JsonFields.OptionalNumber(body, penalty, -2, 2) is { } value && value != 0)
                throw ApiException.InvalidField(penalty, $"'{penalty}' is not supported (only 0)");
        }
        if (JsonFields.TryGet(body, "logit_bias", out var bias)
            && (bias.ValueKind != JsonValueKind.Object || bias.EnumerateObject().Any()))
            throw ApiException.InvalidField("logit_bias", "'logit_bias' is not supported");
        if (JsonFields.TryGet(body, "tools", out var tools)
            && (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > 0))
            throw ApiException.InvalidField("tools", "'tools' is not supported");
    }
}
