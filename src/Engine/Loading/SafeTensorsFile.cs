using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace PdServe.Engine.Loading;

/// <summary>
/// One .safetensors file, opened for reading: an 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}</c>, then the data section.
/// The whole header is validated on <see cref="Open"/> (length, JSON, dtypes, byte counts, offsets in range and not
/// overlapping, file not truncated) before any tensor is created; tensors are then read straight from the file into
/// their storage. Reads use positionless I/O, so concurrent <see cref="Load"/> calls are safe.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Headers larger than this are refused as corrupt (the reference implementation uses the same bound).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private const long ChunkBytes = 64L * 1024 * 1024;

    private readonly SafeFileHandle handle;
    private readonly Dictionary<string, SafeTensorInfo> tensors;
    private readonly long dataStart;

    private SafeTensorsFile(string path, SafeFileHandle handle, Dictionary<string, SafeTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        this.handle = handle;
        this.tensors = tensors;
        Metadata = metadata;
        this.dataStart = dataStart;
        TensorNames = tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => t.Name).ToArray();
    }

    public string Path { get; }

    /// <summary>Tensor names in the order of their data in the file.</summary>
    public IReadOnlyCollection<string> TensorNames { get; }

    /// <summary>The header's <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => tensors;

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>; <see cref="ModelLoadException"/> when it is not in the file.</summary>
    public SafeTensorInfo GetInfo(string name) =>
        tensors.TryGetValue(name, out var info) ? info : throw new ModelLoadException(Path, "missing tensor", name);

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="ModelLoadException"/> naming the file on any problem.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not");
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found");
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot open: {e.Message}");
        }
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
                throw new ModelLoadException(path, $"file is {fileLength} bytes, too short for a safetensors header");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(fileLength - 8))
                throw new ModelLoadException(path,
                    $"header length {headerLength} is larger than the file ({fileLength} bytes): not a safetensors file, or truncated");
            if (headerLength > MaxHeaderBytes)
                throw new ModelLoadException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
            if (headerLength < 2)
                throw new ModelLoadException(path, $"header length {headerLength} is too small for a JSON object");
            var header = new byte[headerLength];
            ReadExactly(handle, header, 8, path);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(header, fileLength - dataStart, path);
            return new SafeTensorsFile(path, handle, tensors, metadata, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads tensor <paramref name="name"/> in its stored dtype, then converts it to <paramref name="dtype"/> when one is
    /// given. Only F32, BF16 and F16 data can be loaded.
    /// </summary>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null)
    {
        var info = GetInfo(name);
        var stored = SafeTensorsDType.ToScalarType(info.DType)
                     ?? throw new ModelLoadException(Path,
                         $"dtype {info.DType} is not supported for weights (supported: {string.Join(", ", SafeTensorsDType.WeightDTypes)})",
                         name);
        using var noGrad = torch.no_grad();
        var tensor = torch.empty(info.Shape.ToArray(), dtype: stored);
        try
        {
            Fill(tensor, info);
            if (dtype is not { } target || target == stored) return tensor;
            var converted = tensor.to(target);
            tensor.Dispose();
            return converted;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private void Fill(torch.Tensor tensor, SafeTensorInfo info)
    {
        long bytes = info.ByteLength;
        if (bytes == 0) return;
        long elementSize = bytes / info.ElementCount;
        long chunkElements = Math.Max(1, ChunkBytes / elementSize);
        using var flat = tensor.view(-1);
        long offset = dataStart + info.Begin;
        for (long start = 0; start < info.ElementCount; start += chunkElements)
        {
            long count = Math.Min(chunkElements, info.ElementCount - start);
            using var chunk = flat.narrow(0, start, count);
            ReadExactly(handle, chunk.bytes, offset + start * elementSize, Path, info.Name);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path, string? tensor = null)
    {
        while (buffer.Length > 0)
        {
            int read;
            try
            {
                read = RandomAccess.Read(handle, buffer, offset);
            }
            catch (IOException e)
            {
                throw new ModelLoadException(path, $"read failed at offset {offset}: {e.Message}", tensor);
            }
            if (read == 0) throw new ModelLoadException(path, $"unexpected end of file at offset {offset} (truncated?)", tensor);
            buffer = buffer[read..];
            offset += read;
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(
        byte[] header, long dataLength, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"header is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException(path, $"header must be a JSON object, got {root.ValueKind}");

            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (sawMetadata) throw new ModelLoadException(path, "header has '__metadata__' twice");
                    sawMetadata = true;
                    ParseMetadata(property.Value, metadata, path);
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                    throw new ModelLoadException(path, "header lists the tensor twice", property.Name);
                tensors[property.Name] = ParseTensor(property.Name, property.Value, path);
            }

            SafeTensorInfo? previous = null;
            foreach (var info in tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (info.End > dataLength)
                    throw new ModelLoadException(path,
                        $"data_offsets [{info.Begin},{info.End}] run past the end of the data section ({dataLength} bytes): file truncated or offsets out of range",
                        info.Name);
                if (previous is not null && info.Begin < previous.End && info.ByteLength > 0 && previous.ByteLength > 0)
                    throw new ModelLoadException(path,
                        $"data_offsets [{info.Begin},{info.End}] overlap tensor '{previous.Name}' [{previous.Begin},{previous.End}]",
                        info.Name);
                if (info.ByteLength > 0) previous = info;
            }
            return (tensors, metadata);
        }
    }

    private static void ParseMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind == JsonValueKind.Null) return;
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException(path, "'__metadata__' must be an object of strings");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new ModelLoadException(path, $"'__metadata__' value for '{entry.Name}' must be a string");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafeTensorInfo ParseTensor(string name, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException(path, "header entry must be an object with dtype, shape and data_offsets", name);
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new ModelLoadException(path, "header entry lacks a string 'dtype'", name);
        string dtype = dtypeElement.GetString()!;
        int elementSize = SafeTensorsDType.ElementSize(dtype)
                          ?? throw new ModelLoadException(path, $"unknown dtype '{dtype}'", name);

        long[] shape = ReadLongArray(element, "shape", name, path);
        long[] offsets = ReadLongArray(element, "data_offsets", name, path);
        if (offsets.Length != 2)
            throw new ModelLoadException(path, $"'data_offsets' must be [begin, end], got {offsets.Length} numbers", name);
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new ModelLoadException(path, $"data_offsets [{begin},{end}] end before they begin", name);

        long expectedBytes;
        try
        {
            long count = 1;
            foreach (long dim in shape) count = checked(count * dim);
            expectedBytes = checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw new ModelLoadException(path, $"shape {SafeTensorInfo.FormatShape(shape)} is too large", name);
        }
        if (end - begin != expectedBytes)
            throw new ModelLoadException(path,
                $"data_offsets [{begin},{end}] hold {end - begin} bytes but shape {SafeTensorInfo.FormatShape(shape)} of {dtype} needs {expectedBytes}",
                name);
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadLongArray(JsonElement element, string key, string name, string path)
    {
        if (!element.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new ModelLoadException(path, $"header entry lacks an array '{key}'", name);
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                throw new ModelLoadException(path, $"'{key}' must hold non-negative integers, got {item.GetRawText()}", name);
            values[i++] = value;
        }
        return values;
    }

    public void Dispose() => handle.Dispose();
}
