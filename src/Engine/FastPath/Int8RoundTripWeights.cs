using PdServe.Engine.Loading;
using TorchSharp;
using static TorchSharp.torch;
using Names = PdServe.Engine.Loading.LlamaTensorNames;

namespace PdServe.Engine.FastPath;

/// <summary>
/// A checkpoint's weights as the fused decode step holds them with <c>--fast-weights int8</c>: every matrix the step
/// packs (q, k, v, o, gate, up and down of each block, and the LM head) quantized exactly as <see cref="PackedWeights"/>
/// quantizes it (symmetric, per row and group of input columns) and dequantized back to the values the kernels multiply
/// with; embeddings, norms and biases as stored. A torch model loaded from it computes what the int8 decode step
/// computes, up to summation order, so perplexity can be scored for the int8 weights with the ordinary forward pass.
/// A tied head is untied (<see cref="Config"/>): the fused step looks embeddings up unquantized and quantizes only its
/// copy of the head, and so does this.
/// </summary>
public sealed class Int8RoundTripWeights(IWeightSource weights, ModelConfig config, int groupSize = PackedWeights.DefaultGroupSize)
    : IWeightSource
{
    private readonly HashSet<string> quantized = Enumerable.Range(0, config.NumLayers)
        .SelectMany(b => new[]
        {
            Names.QProj(b), Names.KProj(b), Names.VProj(b), Names.OProj(b), Names.GateProj(b), Names.UpProj(b), Names.DownProj(b),
        })
        .Append(Names.LmHead)
        .ToHashSet();

    /// <summary>The configuration to load with: the checkpoint's, with the head untied from the embeddings.</summary>
    public ModelConfig Config { get; } = config with { TieWordEmbeddings = false };

    public bool Contains(string name) => name == Names.LmHead || weights.Contains(name);

    public Tensor Load(string name, long[] expectedShape, ScalarType dtype)
    {
        if (!quantized.Contains(name)) return weights.Load(name, expectedShape, dtype);
        using var scope = NewDisposeScope();
        Tensor stored = weights.Load(Source(name), expectedShape, ScalarType.Float32).contiguous();
        int rows = (int)expectedShape[0], columns = (int)expectedShape[1];
        float[] values = stored.data<float>().ToArray();
        using PackedWeights packed = PackedWeights.FromFloat32(values, rows, columns, WeightFormat.Int8, groupSize);
        for (int row = 0; row < rows; row++) packed.GetRow(row, values.AsSpan(row * columns, columns));
        return tensor(values, expectedShape).to_type(dtype).MoveToOuterDisposeScope();
    }

    public ScalarType StoredDtype(string name) => weights.StoredDtype(Source(name));

    /// <summary>A tied checkpoint has no head of its own: its head is the embedding matrix.</summary>
    private string Source(string name) => name == Names.LmHead && !weights.Contains(Names.LmHead) ? Names.Embedding : name;
}
