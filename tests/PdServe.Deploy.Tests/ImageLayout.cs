namespace PdServe.Deploy.Tests;

/// <summary>
/// What the image holds where (deploy/Dockerfile and deploy/build-image-offline.sh build the same layout), so a
/// container path in a manifest can be checked against the repository file it is a copy of.
/// </summary>
public static class ImageLayout
{
    public const string App = "/opt/pdserve/pdserve";
    public const string DefaultModel = "/models/kjv-llama";
    public const string DefaultModelSource = "models/kjv-llama";
    public const int UserId = 10001;
}
