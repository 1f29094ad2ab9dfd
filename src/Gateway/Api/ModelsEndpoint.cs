using PdServe.Gateway.Model;

namespace PdServe.Gateway.Api;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>.</summary>
public static class ModelsEndpoint
{
    private const string Owner = "pdserve";

    public static IResult List(ServedModel model) =>
        Results.Json(new ModelList([Card(model)]), GatewayJson.Options);

    public static IResult Get(string id, ServedModel model) =>
        id == model.Id ? Results.Json(Card(model), GatewayJson.Options) : throw ApiException.UnknownModel(id);

    private static ModelCard Card(ServedModel model) => new(model.Id, model.Created.ToUnixTimeSeconds(), Owner, model.ContextLength);
}
