using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using PdServe.Cli;
using PdServe.Cli.Cluster;
using PdServe.Cli.Terminal;
using PdServe.TestSupport;

namespace PdServe.Gateway.Tests;

/// <summary><c>pdserve up</c>: layout, failure without orphans, and (with the real nodes) a full start, serve and stop.</summary>
public sealed class UpCommandTests
{
    [Fact]
    public void Two_nodes_on_two_cores_get_one_core_and_one_thread_each()
    {
        var specs = NodeSpec.Plan(prefill: 1, decode: 1, cores: 2);
        Assert.Equal(["prefill0", "decode0"], specs.Select(s => s.Name));
        Assert.Equal([[0], [1]], specs.Select(s => s.Cores.ToArray()));
        Assert.All(specs, s => Assert.Equal(1, s.Threads));
        Assert.Equal(2, specs.Select(s => s.Port).Distinct().Count());
    }

    [Fact]
    public void More_nodes_than_cores_share_cores_round_robin()
    {
        var specs = NodeSpec.Plan(prefill: 1, decode: 3, cores: 2);
        Assert.Equal(["prefill0", "decode0", "decode1", "decode2"], specs.Select(s => s.Name));
        Assert.Equal([0, 1, 0, 1], specs.Select(s => s.Cores.Single()));
        var wide = NodeSpec.Plan(prefill: 1, decode: 1, cores: 5);
        Assert.Equal([[0, 1], [2, 3, 4]], wide.Select(s => s.Cores.ToArray()));
        Assert.Equal([2, 3], wide.Select(s => s.Threads));
    }

    [Fact]
    public void A_node_that_cannot_start_fails_up_with_one_error_line_and_leaves_no_process()
    {
        using var model = new TempDirectory("pdserve-up");
        TestCluster.WriteModel(model.Path, null);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = Program.Run(["up", "--model", model.Path, "--port", NodeSpec.FreePort().ToString()], stdout, stderr);

        string[] lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Matches("^pdserve: (prefill0|decode0) exited with code 2 before it was healthy", lines[^1]);
        Assert.Contains("stopped 2 node processes", stdout.ToString());
        Assert.Empty(ProcessesMentioning(model.Path));
    }

    [Fact]
    public void Up_refuses_a_port_in_use()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var model = new TempDirectory("pdserve-up");
        TestCluster.WriteModel(model.Path, null);
        var stderr = new StringWriter();
        int code = Program.Run(["up", "--model", model.Path, "--port", port.ToString()], new StringWriter(), stderr);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"pdserve: up: port {port} on 127.0.0.1 is in use; pick another with --port", stderr.ToString().Trim());
    }

    [RequiresNodesFact]
    public async Task Up_serves_what_generate_prints_for_greedy_and_stops_every_node_on_sigterm()
    {
        using var model = new TempDirectory("pdserve-up");
        TinyTokenizer.WriteModel(model.Path, TinyCheckpoint.DefaultConfig(), seed: 3);
        const string prompt = "In the beginning";
        var generate = new StringWriter();
        Assert.Equal(0, Program.Run(["generate", "--model", model.Path, "--prompt", prompt, "--max-tokens", "12", "--temperature", "0", "--json"],
            generate, new StringWriter()));
        string expected = JsonDocument.Parse(generate.ToString()).RootElement.GetProperty("text").GetString()!;

        int port = NodeSpec.FreePort();
        var info = PdServeExecutable.StartInfo(["up", "--model", model.Path, "--port", port.ToString(), "--prefill", "1", "--decode", "1"]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var up = Process.Start(info)!;
        var pids = new List<int>();
        try
        {
            string? line;
            while ((line = await up.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("Ctrl-C", StringComparison.Ordinal))
            {
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length == 6 && columns[0] is "prefill" or "decode") pids.Add(int.Parse(columns[3]));
            }
            Assert.Equal(2, pids.Count);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var modelId = new DirectoryInfo(model.Path).Name;
            using var response = await http.PostAsJsonAsync("/v1/completions", new { model = modelId, prompt, max_tokens = 12, temperature = 0 });
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(expected, body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        finally
        {
            Process.Start("kill", ["-TERM", up.Id.ToString()])!.WaitForExit();
            Assert.True(up.WaitForExit(TimeSpan.FromSeconds(30)), "pdserve up exits after SIGTERM");
        }
        Assert.Equal(0, up.ExitCode);
        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"node process {pid} is still running"));
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Live processes whose command line names <paramref name="text"/> (Linux /proc).</summary>
    private static List<int> ProcessesMentioning(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => (Pid: int.TryParse(Path.GetFileName(d), out int pid) ? pid : -1, Dir: d))
            .Where(p => p.Pid > 0)
            .Where(p =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(p.Dir, "cmdline")).Contains(text, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .Select(p => p.Pid)
            .ToList();
}
