using System.Net;
using PdServe.Cli.Benchmarking.Scale;

namespace PdServe.Cli.Tests.Scale;

/// <summary>The hand-written DNS query the rehearsal confirms its records with: the bytes it sends and what it reads from a reply.</summary>
public sealed class DnsQueryTests
{
    private static readonly byte[] Question = [1, (byte)'a', 1, (byte)'b', 0, 0, 1, 0, 1];

    [Fact]
    public void A_query_asks_for_the_a_records_of_the_name_with_recursion_desired() =>
        Assert.Equal([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, .. Question], DnsQuery.Encode(0x1234, "a.b."));

    [Fact]
    public void A_reply_gives_every_a_record_and_skips_other_records_and_compressed_names()
    {
        byte[] reply =
        [
            0x12, 0x34, 0x85, 0x80, 0, 1, 0, 3, 0, 0, 0, 0, .. Question,
            // A CNAME (type 5) pointing at offset 12, then two A records for the name at offset 12.
            0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 0xC0, 12,
            0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 78, 0, 10,
            0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 78, 0, 11,
        ];
        Assert.Equal([IPAddress.Parse("10.78.0.10"), IPAddress.Parse("10.78.0.11")], DnsQuery.Parse(reply, 0x1234));
    }

    [Fact]
    public void Nxdomain_is_no_address_and_anything_else_is_no_answer()
    {
        byte[] header = [0x12, 0x34, 0x85, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, .. Question];
        Assert.Empty(DnsQuery.Parse(header, 0x1234)!);
        Assert.Null(DnsQuery.Parse(header, 0x4321));                                    // another query's reply
        Assert.Null(DnsQuery.Parse([0x12, 0x34, 0x85, 0x82, 0, 0, 0, 0, 0, 0, 0, 0], 0x1234)); // SERVFAIL
        Assert.Null(DnsQuery.Parse([0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0], 0x1234)); // a query, not a reply
        Assert.Null(DnsQuery.Parse([0x12, 0x34, 0x87, 0x80, 0, 0, 0, 0, 0, 0, 0, 0], 0x1234)); // truncated (TC)
        Assert.Null(DnsQuery.Parse([0x12, 0x34, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, .. Question, 0xC0, 12, 0, 1], 0x1234)); // cut short
    }
}
