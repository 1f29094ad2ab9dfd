using System.Diagnostics;
using System.Globalization;
using PdServe.Cli.Cluster;
using PdServe.TestSupport;

namespace PdServe.Cli.Tests;

/// <summary>Node processes of <c>pdserve up</c> never outlive it, even when it is killed and cannot stop them.</summary>
public sealed class UpOrphanTests
{
    [Fact]
    public async Task When_up_is_killed_with_sigkill_its_node_processes_exit_within_five_seconds()
    {
        using var model = new TempDirectory("pdserve-up-orphans");
        TinyTokenizer.WriteModel(model.Path, TinyCheckpoint.DefaultConfig(), seed: 3);
        var info = PdServeExecutable.StartInfo(["up", "--model", model.Path, "--port", NodeSpec.FreePort().ToString(CultureInfo.InvariantCulture),
            "--prefill", "1", "--decode", "1"]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var up = Process.Start(info)!;
        // Drained so a chatty node cannot block on a full pipe while the test reads stdout.
        _ = up.StandardError.ReadToEndAsync();
        var pids = new List<int>();
        try
        {
            using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (await up.StandardOutput.ReadLineAsync(startup.Token) is { } line && !line.StartsWith("Ctrl-C", StringComparison.Ordinal))
            {
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length == 6 && columns[0] is "prefill" or "decode") pids.Add(int.Parse(columns[3], CultureInfo.InvariantCulture));
            }
            Assert.Equal(2, pids.Count);
            Assert.All(pids, pid => Assert.True(IsAlive(pid), $"node process {pid} runs while up runs"));

            up.Kill(entireProcessTree: false);
            await up.WaitForExitAsync();

            var deadline = Stopwatch.StartNew();
            while (pids.Any(IsAlive) && deadline.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(50);
            Assert.All(pids, pid => Assert.False(IsAlive(pid), $"node process {pid} still runs {deadline.Elapsed.TotalSeconds:0.0} s after up was killed"));
        }
        finally
        {
            if (!up.HasExited) up.Kill(entireProcessTree: true);
            // Only if the assertion failed: the nodes were started (indirectly) by this test, so it cleans them up.
            foreach (int pid in pids.Where(IsAlive))
            {
                using var node = Process.GetProcessById(pid);
                node.Kill();
            }
        }
    }

    /// <summary>Running, not a zombie: an orphan is reaped by init (or a subreaper), not by this test.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces.
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
