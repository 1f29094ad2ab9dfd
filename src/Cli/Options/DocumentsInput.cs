using PdServe.Cli.Terminal;
using PdServe.Training.Corpus;

namespace PdServe.Cli.Options;

/// <summary>Reads a documents file named by an option; a missing or empty file is a usage error naming the option.</summary>
public static class DocumentsInput
{
    public static TextDocuments Read(string path, string option)
    {
        try
        {
            return TextDocuments.Read(path);
        }
        catch (InvalidDataException e)
        {
            throw new CliError($"{option}: {e.Message}", e);
        }
    }
}
