using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Hosting;
using PdServe.Cli.Cluster;
using PdServe.Gateway.Api;
using PdServe.Gateway.Hosting;
using PdServe.Cli.Options;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Commands;

/// <summary>
/// <c>pdserve gateway --config FILE [--config FILE2] [--model DIR] [--host ADDR] [--port 8000]</c>: the gateway alone,
/// in front of pools named in configuration (configs/*.json, appsettings, environment); files are reloaded on change.
/// Listening beyond loopback without API keys is allowed, with a warning on stderr.
/// </summary>
public static class GatewayCommand
{
    // After the parent is gone: room for a graceful stop of the streams in flight, then a hard exit.
    private static readonly TimeSpan OrphanExitBound = TimeSpan.FromSeconds(5);

    public static Command Create(CliContext context)
    {
        var config = new Option<string[]>("--config")
        {
            Description = "Gateway configuration JSON (see configs/); repeatable, later files win",
            HelpName = "FILE",
            AllowMultipleArgumentsPerToken = false,
        };
        config.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (!File.Exists(token.Value)) result.AddError($"--config: file '{token.Value}' does not exist");
        });
        var model = new Option<string>("--model") { Description = "Model directory (overrides Gateway:ModelDirectory)", HelpName = "DIR" }
            .ExistingDirectory();
        var host = new Option<string>("--host") { Description = "Address to listen on", HelpName = "ADDR", DefaultValueFactory = _ => "127.0.0.1" };
        var port = OptionChecks.Int("--port", 8000, "Port to listen on", "PORT").Require(p => p is >= 1 and <= 65535, "a port (1-65535)");

        var command = new Command("gateway", "Run the OpenAI-compatible gateway in front of configured prefill and decode pools")
        {
            config, model, host, port,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // Started by `bench scale` (which names itself in the environment): stop when it is gone, even killed.
            using var watchdog = ParentWatchdog.FromEnvironment(OrphanExitBound);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watchdog?.ParentGone ?? CancellationToken.None);
            var overrides = new Dictionary<string, string?>();
            if (parseResult.GetValue(model) is { } dir) overrides["Gateway:ModelDirectory"] = Path.GetFullPath(dir);
            string listenHost = parseResult.GetValue(host)!;
            await using var app = GatewayApplication.Build(new GatewayHostSettings
            {
                Urls = $"http://{listenHost}:{parseResult.GetValue(port)}",
                ConfigFiles = parseResult.GetValue(config) ?? [],
                Overrides = overrides,
                Tracing = PdServe.Telemetry.TracingOptions.FromEnvironment("pdserve-gateway"),
            });
            if (!IsLoopback(listenHost) && GatewayApplication.Options<ApiKeyOptions>(app).ApiKeys.Count == 0)
            {
                context.Stderr.WriteLine($"{CliIdentity.Name}: warning: the gateway listens on {listenHost} without API keys: anyone who can " +
                    "reach it can generate and read /pools and /metrics; set Gateway:ApiKeys (e.g. Gateway__ApiKeys__0=sk-...)");
                context.Stderr.Flush();
            }
            await app.StartAsync(stop.Token);
            context.Stdout.WriteLine($"gateway listening on {GatewayApplication.ListeningAddress(app)}");
            context.Stdout.Flush();
            await app.WaitForShutdownAsync(stop.Token);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>True for addresses only this machine can reach: <c>localhost</c> and loopback IPs.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
