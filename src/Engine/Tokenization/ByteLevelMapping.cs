namespace PdServe.Engine.Tokenization;

/// <summary>
/// GPT-2's reversible byte &lt;-&gt; printable-character table used by byte-level BPE: bytes that are
/// printable Latin-1 map to themselves, every other byte to U+0100 + n in byte order.
/// </summary>
internal static class ByteLevelMapping
{
    public static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + next++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }

    /// <summary>UTF-8 bytes of <paramref name="text"/>, each replaced by its table character.</summary>
    public static string Encode(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Inverse of <see cref="Encode"/>; characters outside the table keep their own UTF-8 bytes.</summary>
    public static void Decode(string token, List<byte> output)
    {
        Span<byte> buf = stackalloc byte[4];
        foreach (var rune in token.EnumerateRunes())
        {
            if (rune.IsBmp && CharToByte.TryGetValue((char)rune.Value, out var b)) { output.Add(b); continue; }
            int n = rune.EncodeToUtf8(buf);
            for (int i = 0; i < n; i++) output.Add(buf[i]);
        }
    }
}
