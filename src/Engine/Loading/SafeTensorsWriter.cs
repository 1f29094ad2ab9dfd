using System.Text;
using System.Text.Json;
using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>
/// Writes tensors into a .safetensors file: 8-byte little-endian header length, a JSON header sorted by tensor name
/// (optional <c>__metadata__</c> first) padded with spaces to a multiple of 8 bytes, then the raw little-endian
/// data in the same order. The file is written to a temporary name beside the target and renamed into place, so a
/// crash never leaves a half-written file under the final name.
/// </summary>
public static class SafeTensorsWriter
{
    private const long ChunkElements = 1L << 24;

    /// <summary>
    /// Writes <paramref name="tensors"/> (CPU tensors; F32, BF16 and F16 are stored as they are, as is any other dtype
    /// the format has) and the optional string <paramref name="metadata"/> to <paramref name="path"/>.
    /// </summary>
    public static void Write(
        string path,
        IReadOnlyDictionary<string, torch.Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not");

        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var dtypes = new string[names.Length];
        long[] sizes = new long[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            string name = names[i];
            if (name.Length == 0 || name == "__metadata__")
                throw new ArgumentException($"invalid tensor name '{name}'", nameof(tensors));
            var t = tensors[name] ?? throw new ArgumentException($"tensor '{name}' is null", nameof(tensors));
            if (t.device_type != DeviceType.CPU)
                throw new ArgumentException($"tensor '{name}' is on {t.device}; only CPU tensors can be written", nameof(tensors));
            dtypes[i] = SafeTensorsDType.FromScalarType(t.dtype)
                        ?? throw new ArgumentException($"tensor '{name}' has dtype {t.dtype}, which safetensors cannot store", nameof(tensors));
            sizes[i] = t.numel() * SafeTensorsDType.ElementSize(dtypes[i])!.Value;
        }

        byte[] header = BuildHeader(names, dtypes, sizes, tensors, metadata);

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                for (int i = 0; i < names.Length; i++)
                    WriteData(stream, tensors[names[i]]);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static byte[] BuildHeader(
        string[] names, string[] dtypes, long[] sizes,
        IReadOnlyDictionary<string, torch.Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            for (int i = 0; i < names.Length; i++)
            {
                json.WriteStartObject(names[i]);
                json.WriteString("dtype", dtypes[i]);
                json.WriteStartArray("shape");
                foreach (long dim in tensors[names[i]].shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + sizes[i]);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += sizes[i];
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, torch.Tensor tensor)
    {
        long numel = tensor.numel();
        if (numel == 0) return;
        using var contiguous = tensor.contiguous();
        using var flat = contiguous.reshape(-1);
        for (long start = 0; start < numel; start += ChunkElements)
        {
            using var chunk = flat.narrow(0, start, Math.Min(ChunkElements, numel - start));
            stream.Write(chunk.bytes);
        }
    }
}
