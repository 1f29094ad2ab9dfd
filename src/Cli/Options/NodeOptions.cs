using System.CommandLine;
using System.Net;
using PdServe.NodeHosting;

namespace PdServe.Cli.Options;

/// <summary>The options every node command shares: model, plan, where to listen.</summary>
public sealed class NodeOptions
{
    public Option<string> Model { get; } = new Option<string>("--model")
    {
        Description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json)",
        HelpName = "DIR",
        Required = true,
    }.ExistingDirectory();

    public Option<string> Plan { get; } = new Option<string>("--plan")
    {
        Description = "Prune plan file (skip sets and KV policy); default: the unpruned model, full KV in float32",
        HelpName = "FILE",
    }.Require(File.Exists, "an existing plan file");

    public Option<string> Host { get; } = new Option<string>("--host")
    {
        Description = "IP address to listen on",
        HelpName = "ADDRESS",
        DefaultValueFactory = _ => "127.0.0.1",
    }.Require(host => IPAddress.TryParse(host, out _), "an IP address");

    public Option<int> Port { get; } = OptionChecks.Int("--port", 0, "Port for gRPC, /healthz, /load and /metrics (HTTP/2 without TLS)", "P")
        .Require(p => p is >= 1 and <= 65535, "a port in 1..65535");

    public Option<int?> HttpPort { get; } = new Option<int?>("--http-port")
    {
        Description = "Also serve /healthz, /load and /metrics over HTTP/1.1 on this port (for Prometheus, curl)",
        HelpName = "P",
    }.Require(p => p is >= 1 and <= 65535, "a port in 1..65535");

    public Option<int> Threads { get; } = OptionChecks.Threads();

    /// <summary>Adds the options to <paramref name="command"/>, with the check that --port was given (it has no default).</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Model, Plan, Host, Port, HttpPort, Threads }) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            if (result.GetResult(Port) is null or { Implicit: true }) result.AddError("--port is required");
        });
    }

    /// <param name="service">The node's OpenTelemetry service name (pdserve-prefill, pdserve-decode).</param>
    public NodeHostSettings Settings(ParseResult parseResult, string service) => new()
    {
        Host = parseResult.GetValue(Host)!,
        Port = parseResult.GetValue(Port),
        HttpPort = parseResult.GetValue(HttpPort),
        NodeToken = PdServe.Contracts.NodeToken.FromEnvironment(),
        Tracing = PdServe.Telemetry.TracingOptions.FromEnvironment(service),
    };
}
