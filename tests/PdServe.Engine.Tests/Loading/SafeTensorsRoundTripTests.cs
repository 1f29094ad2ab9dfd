using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PdServe.Engine.Loading;
using PdServe.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

public sealed class SafeTensorsRoundTripTests
{
    private static byte[] Bytes(Tensor t)
    {
        using var c = t.contiguous();
        return c.bytes.ToArray();
    }

    private static Tensor Random(long[] shape, ScalarType dtype, int seed)
    {
        using var gen = new Generator((ulong)seed);
        using var f = randn(shape, generator: gen);
        return f.to(dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void RoundTripIsBitExactAndKeepsMetadata(ScalarType dtype)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var a = Random([3, 5], dtype, 1);
        using var b = Random([7], dtype, 2);
        using var c = Random([2, 3, 4], dtype, 3);
        SafeTensorsWriter.Write(path,
            new Dictionary<string, Tensor> { ["b.weight"] = b, ["a.weight"] = a, ["c"] = c },
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo" });

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["a.weight", "b.weight", "c"], file.TensorNames);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("héllo", file.Metadata["note"]);
        Assert.Equal(SafeTensorsDType.FromScalarType(dtype), file.GetInfo("c").DType);
        Assert.Equal([2L, 3, 4], file.GetInfo("c").Shape);
        foreach (var (name, original) in new[] { ("a.weight", a), ("b.weight", b), ("c", c) })
        {
            using var loaded = file.Load(name);
            Assert.Equal(dtype, loaded.dtype);
            Assert.Equal(original.shape, loaded.shape);
            Assert.Equal(Bytes(original), Bytes(loaded));
        }
    }

    [Fact]
    public void HeaderIsSortedAlignedAndFollowedByDataInNameOrder()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var z = ones(3);
        using var a = zeros(2, 2);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["z"] = z, ["a"] = a });

        byte[] raw = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 4 * 4 + 3 * 4, raw.Length);
        string header = Encoding.UTF8.GetString(raw, 8, (int)headerLength);
        Assert.True(header.IndexOf("\"a\"", StringComparison.Ordinal) < header.IndexOf("\"z\"", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(header);
        Assert.Equal([0, 16], doc.RootElement.GetProperty("a").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([16, 28], doc.RootElement.GetProperty("z").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.False(doc.RootElement.TryGetProperty("__metadata__", out _));
    }

    [Fact]
    public void WriteLeavesNoTemporaryFilesAndReplacesAnExistingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var first = ones(4);
        using var second = full(2, 7.0f);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = first });
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = second });

        Assert.Equal([path], Directory.GetFiles(dir.Path));
        using var file = SafeTensorsFile.Open(path);
        using var x = file.Load("x");
        Assert.Equal([7f, 7f], x.data<float>().ToArray());
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var good = ones(4);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = good });
        byte[] before = File.ReadAllBytes(path);
        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);

        Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = complex }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void NonContiguousScalarAndEmptyTensorsRoundTrip()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var m = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        using var transposed = m.t();
        using var scalar = tensor(3.5f);
        using var empty = zeros(0, 4);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["t"] = transposed, ["s"] = scalar, ["e"] = empty });

        using var file = SafeTensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(Bytes(transposed), Bytes(t));
        Assert.Equal([4L, 3], t.shape);
        using var s = file.Load("s");
        Assert.Empty(s.shape);
        Assert.Equal(3.5f, s.item<float>());
        using var e = file.Load("e");
        Assert.Equal([0L, 4], e.shape);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void HalfPrecisionFileLoadsAsFloat32WithTheSameValues(ScalarType stored)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var half = Random([4, 6], stored, 5);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = half });

        using var file = SafeTensorsFile.Open(path);
        using var loaded = file.Load("w", ScalarType.Float32);
        using var expected = half.to(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, loaded.dtype);
        Assert.Equal(Bytes(expected), Bytes(loaded));
        // And back: f32 of bf16 values converts to the same bf16 bits.
        using var back = loaded.to(stored);
        Assert.Equal(Bytes(half), Bytes(back));
    }

    [Fact]
    public void Float32FileLoadsAsBFloat16()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("t.safetensors");
        using var f = Random([8], ScalarType.Float32, 9);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = f });
        using var file = SafeTensorsFile.Open(path);
        using var loaded = file.Load("w", ScalarType.BFloat16);
        using var expected = f.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, loaded.dtype);
        Assert.Equal(Bytes(expected), Bytes(loaded));
    }
}
