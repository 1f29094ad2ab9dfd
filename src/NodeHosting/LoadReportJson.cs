using System.Text.Json.Serialization;

namespace PdServe.NodeHosting;

/// <summary>Source-generated JSON for /load (the slim host has no reflection-based serializer).</summary>
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class LoadReportJson : JsonSerializerContext;
