using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdServe.Gateway.Api;

/// <summary>The serializer settings of every body and SSE chunk the gateway writes.</summary>
public static class GatewayJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Model text is arbitrary; escape only what JSON requires so clients see it as generated.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
