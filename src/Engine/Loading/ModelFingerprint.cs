using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace PdServe.Engine.Loading;

/// <summary>
/// A stable identity for a model's weights: lowercase hex SHA-256 over config.json, the shard index when sharded, and
/// every weight file, each framed by its file name and length so that moving bytes between files changes it. Files are
/// hashed streaming; results are cached per process by path, length and last-write time, so asking again is free.
/// Nodes whose fingerprints differ must not exchange KV caches.
/// </summary>
public static class ModelFingerprint
{
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    /// <summary>Fingerprint of the model directory at <paramref name="directory"/>.</summary>
    public static string Compute(string directory)
    {
        string full = Path.GetFullPath(directory);
        string config = Path.Combine(full, ModelDirectory.ConfigFileName);
        string index = Path.Combine(full, SafeTensorsCheckpoint.IndexFileName);
        var files = new List<string> { config };
        if (File.Exists(index))
        {
            files.Add(index);
            files.AddRange(SafeTensorsIndex.Load(index).ShardPaths);
        }
        else
        {
            files.Add(Path.Combine(full, SafeTensorsCheckpoint.SingleFileName));
        }
        return Compute(files);
    }

    /// <summary>Fingerprint of an explicit list of files, hashed in the given order.</summary>
    public static string Compute(IReadOnlyList<string> files)
    {
        var key = new StringBuilder();
        foreach (string file in files)
        {
            var info = new FileInfo(file);
            if (!info.Exists) throw new ModelLoadException(file, "file not found");
            key.Append(info.FullName).Append('|').Append(info.Length).Append('|')
                .Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Cache.GetOrAdd(key.ToString(), _ => Hash(files));
    }

    private static string Hash(IReadOnlyList<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        Span<byte> length = stackalloc byte[8];
        foreach (string file in files)
        {
            // Frame each file by its name (not its directory, so copies of a model agree) and its length.
            byte[] name = Encoding.UTF8.GetBytes(Path.GetFileName(file));
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, name.Length);
            sha.AppendData(length);
            sha.AppendData(name);
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, stream.Length);
            sha.AppendData(length);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
