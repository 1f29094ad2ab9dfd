using System.Buffers.Binary;
using System.Text;
using PdServe.Engine.Loading;
using PdServe.TestSupport;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Loading;

/// <summary>Malformed files are refused at open (or load) with a <see cref="ModelLoadException"/> naming the file.</summary>
public sealed class SafeTensorsCorruptionTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Writes a file by hand: header length (given or true), header text, data bytes.</summary>
    private string WriteRaw(string header, int dataBytes, ulong? headerLength = null, string name = "bad.safetensors")
    {
        string path = dir.Combine(name);
        byte[] json = Encoding.UTF8.GetBytes(header);
        var raw = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, headerLength ?? (ulong)json.Length);
        json.CopyTo(raw, 8);
        return WriteBytes(path, raw);
    }

    private static string WriteBytes(string path, byte[] raw)
    {
        File.WriteAllBytes(path, raw);
        return path;
    }

    private static ModelLoadException OpenFails(string path)
    {
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void ValidHandWrittenFileOpens()
    {
        string path = WriteRaw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8);
        using var file = SafeTensorsFile.Open(path);
        using var w = file.Load("w");
        Assert.Equal([0f, 0f], w.data<float>().ToArray());
    }

    [Fact]
    public void CorruptHeaderJson()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""", 8));
        Assert.Contains("header is not valid JSON", e.Message);
    }

    [Fact]
    public void HeaderThatIsNotAnObject()
    {
        var e = OpenFails(WriteRaw("[1, 2, 3]", 0));
        Assert.Contains("header must be a JSON object", e.Message);
    }

    [Fact]
    public void HeaderLengthLargerThanTheFile()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, headerLength: 1_000_000));
        Assert.Contains("header length 1000000 is larger than the file", e.Message);
    }

    [Fact]
    public void AbsurdHeaderLength()
    {
        var e = OpenFails(WriteRaw("{}", 0, headerLength: ulong.MaxValue));
        Assert.Contains("is larger than the file", e.Message);
    }

    [Fact]
    public void FileShorterThanTheLengthPrefix()
    {
        var e = OpenFails(WriteBytes(dir.Combine("tiny.safetensors"), [1, 2, 3]));
        Assert.Contains("too short for a safetensors header", e.Message);
    }

    [Fact]
    public void TruncatedData()
    {
        using var dir = new TempDirectory();
        string good = dir.Combine("good.safetensors");
        using var t = ones(16, 16);
        SafeTensorsWriter.Write(good, new Dictionary<string, Tensor> { ["model.norm.weight"] = t });
        byte[] raw = File.ReadAllBytes(good);
        string path = WriteBytes(this.dir.Combine("truncated.safetensors"), raw[..^100]);

        var e = OpenFails(path);
        Assert.Equal("model.norm.weight", e.Tensor);
        Assert.Contains("tensor 'model.norm.weight'", e.Message);
        Assert.Contains("run past the end of the data section", e.Message);
    }

    [Fact]
    public void OffsetsOutOfRange()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8));
        Assert.Equal("w", e.Tensor);
        Assert.Contains("data_offsets [8,16] run past the end", e.Message);
    }

    [Fact]
    public void OverlappingOffsets()
    {
        var e = OpenFails(WriteRaw(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        Assert.Equal("b", e.Tensor);
        Assert.Contains("overlap tensor 'a'", e.Message);
    }

    [Fact]
    public void OffsetsEndingBeforeTheyBegin()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8));
        Assert.Contains("end before they begin", e.Message);
    }

    [Fact]
    public void ByteCountDisagreesWithShape()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,8]}}""", 8));
        Assert.Equal("w", e.Tensor);
        Assert.Contains("hold 8 bytes but shape [3,2] of BF16 needs 12", e.Message);
    }

    [Fact]
    public void UnknownDtypeString()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}""", 8));
        Assert.Contains("unknown dtype 'F33'", e.Message);
    }

    [Fact]
    public void NegativeOrFractionalShape()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8));
        Assert.Contains("'shape' must hold non-negative integers", e.Message);
    }

    [Fact]
    public void MissingDataOffsets()
    {
        var e = OpenFails(WriteRaw("""{"w":{"dtype":"F32","shape":[2]}}""", 8));
        Assert.Contains("lacks an array 'data_offsets'", e.Message);
    }

    [Fact]
    public void NonStringMetadata()
    {
        var e = OpenFails(WriteRaw("""{"__metadata__":{"format":3}}""", 0));
        Assert.Contains("'__metadata__' value for 'format' must be a string", e.Message);
    }

    [Fact]
    public void IntegerWeightIsRefusedOnLoad()
    {
        string path = dir.Combine("ints.safetensors");
        using var ids = arange(4, dtype: ScalarType.Int64);
        using var w = ones(2);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["position_ids"] = ids, ["w"] = w });

        using var file = SafeTensorsFile.Open(path); // the file itself is fine
        Assert.Equal("I64", file.GetInfo("position_ids").DType);
        var e = Assert.Throws<ModelLoadException>(() => file.Load("position_ids", ScalarType.Float32));
        Assert.Equal("position_ids", e.Tensor);
        Assert.Contains(path, e.Message);
        Assert.Contains("dtype I64 is not supported for weights (supported: F32, BF16, F16)", e.Message);
        using var ok = file.Load("w");
        Assert.Equal(2, ok.numel());
    }

    [Fact]
    public void MissingFile()
    {
        string path = dir.Combine("nope.safetensors");
        var e = OpenFails(path);
        Assert.Contains("file not found", e.Message);
    }
}
