using PdServe.Engine.Loading;
using PdServe.Engine.Planning;
using PdServe.KvTransfer.Accounting;
using PdServe.Contracts;
using Spectre.Console;

namespace PdServe.Cli.Benchmarking.Transfer;

/// <summary>Bytes per request of each transfer variant, from the same accounting the nodes report.</summary>
public static class TransferBytesTable
{
    public static Table Build(ModelConfig config, KvPolicy policy, IReadOnlyList<int> promptLengths)
    {
        var table = new Table().AddColumns("prompt", "full fp32", "policy fp32", "bf16 wire", "int8 wire", "policy + bf16", "policy + int8");
        foreach (int length in promptLengths)
        {
            int[] all = Enumerable.Repeat(length, config.NumLayers).ToArray();
            int[] kept = Enumerable.Range(0, config.NumLayers).Select(layer => policy.KeptCount(layer, length)).ToArray();
            KvByteAccounting Of(int[] positions, WireDtype dtype) => KvByteAccounting.For(length, config.NumKvHeads, config.HeadDim, config.NumLayers, positions, dtype);
            KvByteAccounting full = Of(all, WireDtype.Float32);
            string Cell(KvByteAccounting a) => $"{a.Sent / 1048576.0:0.00} MiB ({a.Reduction:0.0}×)";
            table.AddRow($"{length}", $"{full.Full / 1048576.0:0.00} MiB", Cell(Of(kept, WireDtype.Float32)), Cell(Of(all, WireDtype.Bfloat16)),
                Cell(Of(all, WireDtype.Int8)), Cell(Of(kept, WireDtype.Bfloat16)), Cell(Of(kept, WireDtype.Int8)));
        }
        return table;
    }
}
