using PdServe.Decode;
using PdServe.NodeHosting;
using PdServe.Prefill;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PdServe.Nodes.Tests;

/// <summary>A prefill node and a decode node started in-process on 127.0.0.1 (free ports), ready; both stopped on dispose.</summary>
public sealed class NodePair : IAsyncDisposable
{
    private NodePair(RunningNode prefill, RunningNode decode)
    {
        Prefill = prefill;
        Decode = decode;
        Client = new DecodeTestClient(decode.Address);
    }

    public RunningNode Prefill { get; }
    public RunningNode Decode { get; }
    public DecodeTestClient Client { get; }
    public DecodeNode DecodeState => Decode.Services.GetRequiredService<DecodeNode>();
    public PrefillNode PrefillState => Prefill.Services.GetRequiredService<PrefillNode>();
    public string PrefillAddress => AddressOf(Prefill);

    public static NodeHostSettings Quiet => new() { Host = "127.0.0.1", Port = 0, MinimumLogLevel = LogLevel.Warning, ShutdownTimeout = TimeSpan.FromSeconds(5) };

    public static PrefillNodeOptions PrefillOptions(string model, string? plan = null) =>
        new() { ModelDirectory = model, PlanPath = plan, Host = Quiet, Threads = 1 };

    public static DecodeNodeOptions DecodeOptions(string model, string? plan = null) =>
        new() { ModelDirectory = model, PlanPath = plan, Host = Quiet, Threads = 1, MaxContextTokens = 256, TransferTimeout = TimeSpan.FromSeconds(20) };

    /// <summary>
    /// Starts both; the decode node trusts the prefill node (and whatever <paramref name="decodeOptions"/> trusts), the
    /// prefill node streams through <paramref name="filter"/>.
    /// </summary>
    public static async Task<NodePair> StartAsync(PrefillNodeOptions prefillOptions, DecodeNodeOptions decodeOptions,
        IPrefillStreamFilter? filter = null)
    {
        RunningNode prefill = await StartPrefillAsync(prefillOptions, filter);
        try
        {
            RunningNode decode = await DecodeNodeHost.StartAsync(Trusting(decodeOptions, prefill));
            await Task.WhenAll(prefill.Readiness.Loaded, decode.Readiness.Loaded);
            return new NodePair(prefill, decode);
        }
        catch
        {
            await prefill.DisposeAsync();
            throw;
        }
    }

    /// <summary>A prefill node whose stream runs through <paramref name="filter"/> (none: the node's own pass-through).</summary>
    public static Task<RunningNode> StartPrefillAsync(PrefillNodeOptions options, IPrefillStreamFilter? filter = null) =>
        PrefillNodeHost.StartAsync(options, filter is null ? null : services => services.AddSingleton(filter));

    /// <summary><paramref name="options"/> with <paramref name="prefill"/>'s address among the trusted prefill nodes.</summary>
    public static DecodeNodeOptions Trusting(DecodeNodeOptions options, params RunningNode[] prefill) =>
        options with { TrustedPrefillNodes = [.. options.TrustedPrefillNodes, .. prefill.Select(AddressOf)] };

    /// <summary>http://host:port of a node, as a request's prefill_address names it.</summary>
    public static string AddressOf(RunningNode node) => node.Address.ToString().TrimEnd('/');

    public static Task<NodePair> StartAsync(string model, string? plan = null) =>
        StartAsync(PrefillOptions(model, plan), DecodeOptions(model, plan));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Decode.DisposeAsync();
        await Prefill.DisposeAsync();
    }
}
