using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PdServe.Cli.Benchmarking.Scale;

/// <summary>
/// Asks one DNS server for a name's A records over UDP (RFC 1035: a recursion-desired query, the answers' addresses),
/// so the rehearsal knows the moment the server answers a changed set of records. Written by hand: .NET's resolver
/// asks the machine's configured servers only, and the rehearsal's server is not one of them.
/// </summary>
public static class DnsQuery
{
    private const ushort TypeA = 1;
    private const ushort ClassIn = 1;

    /// <summary>The A records <paramref name="server"/> answers for <paramref name="name"/> (empty for NXDOMAIN or none); null on no answer in time.</summary>
    public static async Task<IReadOnlyList<IPAddress>?> AddressesAsync(IPAddress server, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        ushort id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        byte[] query = Encode(id, name);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await udp.SendAsync(query, new IPEndPoint(server, 53), deadline.Token);
            while (true)
            {
                UdpReceiveResult reply = await udp.ReceiveAsync(deadline.Token);
                if (Parse(reply.Buffer, id) is { } addresses) return addresses;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>A standard query (recursion desired) for the A records of <paramref name="name"/>.</summary>
    public static byte[] Encode(ushort id, string name)
    {
        var message = new List<byte>(32 + name.Length);
        message.AddRange([(byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        foreach (string label in name.TrimEnd('.').Split('.'))
        {
            byte[] bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63) throw new ArgumentException($"'{name}' has an empty or over-long label", nameof(name));
            message.Add((byte)bytes.Length);
            message.AddRange(bytes);
        }
        // The root label, then QTYPE A and QCLASS IN.
        message.AddRange([0, 0, 1, 0, 1]);
        return [.. message];
    }

    /// <summary>
    /// The A records of a reply to query <paramref name="id"/>: empty for NXDOMAIN or an answer without A records;
    /// null for a message that is not that reply, is truncated or carries another error.
    /// </summary>
    public static IReadOnlyList<IPAddress>? Parse(ReadOnlySpan<byte> message, ushort id)
    {
        if (message.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(message) != id || (message[2] & 0x80) == 0) return null;
        int rcode = message[3] & 0x0F;
        if (rcode == 3) return [];
        if (rcode != 0 || (message[2] & 0x02) != 0) return null;
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        int offset = 12;
        for (int q = 0; q < questions; q++)
        {
            if (!SkipName(message, ref offset) || offset + 4 > message.Length) return null;
            offset += 4;
        }
        var addresses = new List<IPAddress>();
        for (int a = 0; a < answers; a++)
        {
            if (!SkipName(message, ref offset) || offset + 10 > message.Length) return null;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            ushort klass = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + length > message.Length) return null;
            if (type == TypeA && klass == ClassIn && length == 4) addresses.Add(new IPAddress(message.Slice(offset, 4)));
            offset += length;
        }
        return addresses;
    }

    /// <summary>Steps over a name: labels up to the root, or labels ending in a compression pointer (two bytes).</summary>
    private static bool SkipName(ReadOnlySpan<byte> message, ref int offset)
    {
        while (offset < message.Length)
        {
            byte length = message[offset];
            if (length == 0)
            {
                offset++;
                return true;
            }
            if ((length & 0xC0) == 0xC0)
            {
                offset += 2;
                return offset <= message.Length;
            }
            offset += 1 + length;
        }
        return false;
    }
}
