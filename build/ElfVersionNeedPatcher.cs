// MSBuild inline task (see LibTorchSharpGlibcxxPatch.targets): marks one GNU version-need entry of an ELF64
// shared library as weak, so the dynamic loader accepts a libstdc++ that lacks that symbol version.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchElfVersionNeed : Task
{
    private const uint SectionTypeGnuVerneed = 0x6ffffffe;
    private const ushort VersionFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        string? provider = FindSystemLibraryProviding(VersionName);
        if (provider != null)
        {
            Log.LogMessage(MessageImportance.Low, $"{provider} provides {VersionName}; nothing to patch.");
            return true;
        }
        foreach (ITaskItem item in Files)
        {
            string path = item.ItemSpec;
            try
            {
                string outcome = PatchFile(path, VersionName);
                Log.LogMessage(MessageImportance.Low, $"{path}: {outcome}");
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"Cannot patch {path} for {VersionName}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static string? FindSystemLibraryProviding(string versionName)
    {
        byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
        string[] directories =
        {
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64", "/lib64", "/usr/lib", "/lib",
        };
        foreach (string directory in directories)
        {
            string candidate = Path.Combine(directory, "libstdc++.so.6");
            if (!File.Exists(candidate)) continue;
            byte[] bytes = File.ReadAllBytes(candidate);
            if (Contains(bytes, needle)) return candidate;
            return null; // the first libstdc++ found is the one the loader uses
        }
        return null;
    }

    /// <summary>Returns what was done; throws InvalidDataException on a file that is not what we expect.</summary>
    private static string PatchFile(string path, string versionName)
    {
        DateTime lastWrite = File.GetLastWriteTimeUtc(path);
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");

        ulong sectionTableOffset = BitConverter.ToUInt64(elf, 0x28);
        int sectionEntrySize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        var weakened = new List<long>();
        bool foundAlreadyWeak = false;

        for (int s = 0; s < sectionCount; s++)
        {
            long header = checked((long)sectionTableOffset + (long)s * sectionEntrySize);
            if (BitConverter.ToUInt32(elf, (int)header + 4) != SectionTypeGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)header + 24);
            int linkedStrings = (int)BitConverter.ToUInt32(elf, (int)header + 40);
            int entryCount = (int)BitConverter.ToUInt32(elf, (int)header + 44);
            long stringTable = (long)BitConverter.ToUInt64(elf,
                checked((int)((long)sectionTableOffset + (long)linkedStrings * sectionEntrySize + 24)));

            long need = offset;
            for (int n = 0; n < entryCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, stringTable + nameOffset) == versionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VersionFlagWeak) != 0) foundAlreadyWeak = true;
                        else weakened.Add(aux + 4);
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }

        if (weakened.Count == 0)
            return foundAlreadyWeak ? $"{versionName} already weak" : $"does not require {versionName}";

        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            foreach (long flagsOffset in weakened)
            {
                ushort flags = (ushort)(BitConverter.ToUInt16(elf, (int)flagsOffset) | VersionFlagWeak);
                stream.Position = flagsOffset;
                stream.Write(BitConverter.GetBytes(flags), 0, 2);
            }
        }
        File.SetLastWriteTimeUtc(path, lastWrite);
        return $"marked {versionName} weak";
    }

    // The task compiles against netstandard, where Span search is not available.
    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    private static string ReadCString(byte[] bytes, long start)
    {
        int end = (int)start;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, end - (int)start);
    }
}
