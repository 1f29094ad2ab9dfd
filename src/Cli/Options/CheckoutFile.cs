namespace PdServe.Cli.Options;

/// <summary>
/// Finds a file of this repository's checkout (the default model, the default prune plan) by walking up from the
/// executable's folder (the build output) and from the working directory, so `./pdserve ...` works from any checkout.
/// </summary>
public static class CheckoutFile
{
    /// <summary>The full path of <paramref name="relativePath"/> in the nearest checkout that has it, or null.</summary>
    public static string? Find(string relativePath)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, relativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
