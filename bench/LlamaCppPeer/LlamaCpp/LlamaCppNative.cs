using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using LLama.Native;

namespace LlamaCppPeer.LlamaCpp;

/// <summary>The native llama.cpp library LLamaSharp loaded: its log, the ISA it was built for, and which file it is.</summary>
public static class LlamaCppNative
{
    /// <summary>
    /// Routes llama.cpp's log to stderr: warnings and errors always, everything with <paramref name="verbose"/>.
    /// Must run before the first native call, which is when LLamaSharp loads the library.
    /// </summary>
    public static void ConfigureLog(bool verbose)
    {
        bool lastShown = false;
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            // "Continue" extends the previous message, so it is shown exactly when that one was.
            bool show = level == LLamaLogLevel.Continue ? lastShown : verbose || level is LLamaLogLevel.Warning or LLamaLogLevel.Error;
            lastShown = show;
            if (show) Console.Error.Write(message);
        });
    }

    /// <summary>llama.cpp's own system line, e.g. "CPU : SSE3 = 1 | … | AVX512 = 1 | …": the ISA its kernels use.</summary>
    public static string SystemInfo() =>
        Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info())?.Trim() ?? "";

    /// <summary>
    /// The libllama.so this process mapped (LLamaSharp picks one of its avx/avx2/avx512/noavx builds at run time),
    /// read from /proc/self/maps; null where that file does not exist.
    /// </summary>
    public static string? LoadedLibraryPath()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        return File.ReadLines(maps).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[^1].EndsWith("/libllama.so", StringComparison.Ordinal))
            .Select(fields => fields[^1]).FirstOrDefault();
    }

    /// <summary>
    /// LLamaSharp's package version, e.g. "0.30.0", from this app's deps.json ("libraries": "LLamaSharp/0.30.0"):
    /// the assembly itself carries no version (it says 0.0.0.0).
    /// </summary>
    public static string LlamaSharpVersion()
    {
        string deps = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetEntryAssembly()?.GetName().Name}.deps.json");
        if (!File.Exists(deps)) return "unknown";
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(deps));
        return document.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(library => library.Name)
            .FirstOrDefault(name => name.StartsWith("LLamaSharp/", StringComparison.Ordinal))?["LLamaSharp/".Length..] ?? "unknown";
    }
}
