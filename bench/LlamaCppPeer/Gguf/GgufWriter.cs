using System.Text;

namespace LlamaCppPeer.Gguf;

/// <summary>
/// Writes a GGUF version 3 file: header, typed metadata, tensor infos, then each tensor's data at an offset that is
/// a multiple of <see cref="Alignment"/>. Tensor data is produced one tensor at a time while writing, so a model is
/// never held in memory twice.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>Tensor data alignment, written as <c>general.alignment</c> (32 is also ggml's default).</summary>
    public const uint Alignment = 32;

    private const uint Version = 3;
    private static readonly byte[] Magic = "GGUF"u8.ToArray();

    private readonly List<(string Key, GgufValueType Type, Action<BinaryWriter> WriteValue)> metadata = [];
    private readonly List<GgufTensor> tensors = [];

    public GgufWriter() => AddUInt32("general.alignment", Alignment);

    /// <summary>A tensor to write: <paramref name="Dimensions"/> in ggml's order (the row length first).</summary>
    private sealed record GgufTensor(string Name, long[] Dimensions, GgmlType Type, Func<byte[]> Encode)
    {
        public long Bytes => GgmlTypeSizes.RowBytes(Type, Dimensions[0]) * Dimensions.Skip(1).Aggregate(1L, (a, b) => a * b);
    }

    public IReadOnlyList<(string Name, GgmlType Type, long Bytes)> Tensors => tensors.Select(t => (t.Name, t.Type, t.Bytes)).ToArray();

    public void AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, w => w.Write(value));

    public void AddFloat32(string key, float value) => Add(key, GgufValueType.Float32, w => w.Write(value));

    public void AddString(string key, string value) => Add(key, GgufValueType.String, w => WriteString(w, value));

    /// <summary>
    /// Adds a tensor whose data <paramref name="encode"/> returns when the file is written; its length must be what
    /// <paramref name="type"/> and <paramref name="dimensions"/> (ggml order: row length first) imply.
    /// </summary>
    public void AddTensor(string name, long[] dimensions, GgmlType type, Func<byte[]> encode)
    {
        if (dimensions.Length is 0 or > 4) throw new ArgumentException($"{name}: ggml tensors have 1 to 4 dimensions", nameof(dimensions));
        if (tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor {name} is added twice", nameof(name));
        tensors.Add(new GgufTensor(name, dimensions, type, encode));
    }

    public void WriteTo(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        // BinaryWriter is little-endian on every platform, as GGUF is.
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write((ulong)tensors.Count);
        writer.Write((ulong)metadata.Count);
        foreach (var (key, type, writeValue) in metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)type);
            writeValue(writer);
        }

        long offset = 0;
        var offsets = new List<long>();
        foreach (GgufTensor tensor in tensors)
        {
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Dimensions.Length);
            foreach (long dimension in tensor.Dimensions) writer.Write((ulong)dimension);
            writer.Write((uint)tensor.Type);
            // Offsets count from the start of the data section, which itself starts aligned.
            writer.Write((ulong)offset);
            offsets.Add(offset);
            offset = AlignUp(offset + tensor.Bytes);
        }

        writer.Flush();
        long dataStart = AlignUp(stream.Position);
        Pad(writer, dataStart - stream.Position);
        for (int i = 0; i < tensors.Count; i++)
        {
            Pad(writer, dataStart + offsets[i] - stream.Position);
            byte[] data = tensors[i].Encode();
            if (data.Length != tensors[i].Bytes)
                throw new InvalidOperationException($"{tensors[i].Name}: {data.Length} bytes encoded, {tensors[i].Bytes} expected for {tensors[i].Type}");
            writer.Write(data);
            writer.Flush();
        }
        Pad(writer, AlignUp(stream.Position) - stream.Position);
    }

    private void Add(string key, GgufValueType type, Action<BinaryWriter> writeValue)
    {
        if (metadata.Any(m => m.Key == key)) throw new ArgumentException($"metadata key {key} is added twice", nameof(key));
        metadata.Add((key, type, writeValue));
    }

    /// <summary>A GGUF string: its UTF-8 byte count as uint64, then the bytes, no terminator.</summary>
    private static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter writer, long count)
    {
        for (long i = 0; i < count; i++) writer.Write((byte)0);
    }
}
