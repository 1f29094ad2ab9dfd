using TorchSharp;
using PdServe.Cli.Terminal;

namespace PdServe.Cli.Options;

public static class TorchThreads
{
    /// <summary>Sets torch's intra-op thread count (the <c>--threads</c> option). Loads libtorch on first use.</summary>
    public static void Apply(int threads)
    {
        if (threads < 1) throw new CliError($"--threads must be >= 1, got {threads}");
        torch.set_num_threads(threads);
    }
}
