using System.Text.Json;
using PdServe.Gateway.Routing;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>
/// KV-aware routing: a conversation's next turn goes back to the decode node that parked its previous prompt while that
/// node's load is within the bound, prompts sharing their first block meet on one prefill node, failures fall back to
/// cold calls on other nodes; and usage reports what reuse saved.
/// </summary>
public sealed class ReuseRoutingTests
{
    private static object Completion(IEnumerable<int> prompt, int maxTokens = 2) =>
        new { model = TestCluster.ModelId, prompt = prompt.ToArray(), max_tokens = maxTokens, temperature = 0 };

    private static int[] Tokens(int conversation, int length) => Enumerable.Range(0, length).Select(i => 40 + (conversation * 7 + i) % 50).ToArray();

    private static FakeDecodeNode NodeOf(TestCluster cluster, int[] prompt) =>
        cluster.Decode.Single(n => n.Calls.Any(c => c.Request.PromptTokenIds.SequenceEqual(prompt)));

    private static async Task<TestCluster> ParkingCluster(int decodeNodes = 3, Dictionary<string, string?>? settings = null)
    {
        var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = decodeNodes,
            DecodePolicy = ConversationAffinityPolicy.PolicyName,
            Settings = settings ?? new Dictionary<string, string?>(),
        });
        foreach (var node in cluster.Decode) node.Behavior = node.Behavior with { ParksPrompts = true };
        return cluster;
    }

    [Fact]
    public async Task Every_later_turn_of_a_conversation_goes_to_the_decode_node_that_parked_its_previous_prompt()
    {
        await using var cluster = await ParkingCluster();
        for (int conversation = 0; conversation < 6; conversation++)
        {
            int[] prompt = Tokens(conversation, 10);
            await cluster.PostJsonAsync("/v1/completions", Completion(prompt));
            FakeDecodeNode first = NodeOf(cluster, prompt);
            for (int turn = 2; turn <= 4; turn++)
            {
                prompt = [.. prompt, .. Tokens(100 + conversation * 10 + turn, 5)];
                await cluster.PostJsonAsync("/v1/completions", Completion(prompt));
                Assert.Same(first, NodeOf(cluster, prompt));
            }
        }
    }

    [Fact]
    public async Task A_busy_or_vanished_holder_loses_the_turn_to_the_least_loaded_node_and_the_call_succeeds()
    {
        await using var cluster = await ParkingCluster(settings: new() { ["Gateway:AffinityLoadFactor"] = "1.5" });
        int[] prompt = Tokens(1, 12);
        await cluster.PostJsonAsync("/v1/completions", Completion(prompt));
        FakeDecodeNode holder = NodeOf(cluster, prompt);
        var others = cluster.Decode.Where(n => n != holder).ToList();

        // 6 outstanding on the holder, none elsewhere: mean with the call is 7/3, bound ceil(1.5 × 7/3) = 4 < 7.
        holder.ReportedLoad = (6, 0, 0.1);
        await TestCluster.WaitUntilAsync(async () =>
        {
            var pools = JsonDocument.Parse(await cluster.Http.GetStringAsync("/pools")).RootElement;
            return pools.EnumerateArray().Single(p => p.GetProperty("pool").GetString() == "decode").GetProperty("nodes").EnumerateArray()
                .Any(n => n.GetProperty("load").ValueKind == JsonValueKind.Object && n.GetProperty("load").GetProperty("running").GetInt32() == 6);
        }, TimeSpan.FromSeconds(5), "the holder's load is polled");
        int[] busyTurn = [.. prompt, 7, 7, 7];
        await cluster.PostJsonAsync("/v1/completions", Completion(busyTurn));
        Assert.Contains(NodeOf(cluster, busyTurn), others);

        // Within the bound again: back to the holder of the longest parked prefix (the busy turn was parked elsewhere).
        holder.ReportedLoad = (0, 0, 0.1);
        int probes = 0;
        await TestCluster.WaitUntilAsync(async () =>
        {
            int[] probe = [.. prompt, 8, 8, 40 + probes++];
            await cluster.PostJsonAsync("/v1/completions", Completion(probe));
            return NodeOf(cluster, probe) == holder;
        }, TimeSpan.FromSeconds(5), "the holder gets the conversation back once its load is within the bound");

        // The holder leaves its pool: the next turn is a cold call elsewhere, not an error.
        holder.Healthy = false;
        await TestCluster.WaitUntilAsync(async () => !(await cluster.AvailableAsync("decode")).Contains(holder.Address),
            TimeSpan.FromSeconds(10), "the unhealthy holder leaves the pool");
        int[] orphanTurn = [.. prompt, 9, 9, 9, 9];
        await cluster.PostJsonAsync("/v1/completions", Completion(orphanTurn));
        Assert.Contains(NodeOf(cluster, orphanTurn), others);
    }

    [Fact]
    public async Task Prompts_sharing_their_first_block_meet_on_one_prefill_node_within_the_load_bound()
    {
        await using var cluster = await TestCluster.StartAsync(new TestCluster.Options
        {
            DecodeNodes = 1,
            PrefillNodes = 3,
            PrefillPolicy = PrefixAffinityPolicy.PolicyName,
            Settings = new Dictionary<string, string?> { ["Gateway:PrefixBlockTokens"] = "8" },
        });
        string PrefillOf(int[] prompt) => cluster.Decode[0].Calls.Single(c => c.Request.PromptTokenIds.SequenceEqual(prompt)).Request.PrefillAddress;

        var placements = new Dictionary<int, string>();
        for (int system = 0; system < 12; system++)
        {
            int[] shared = Tokens(system, 8);
            for (int user = 0; user < 3; user++)
            {
                int[] prompt = [.. shared, .. Tokens(200 + system * 3 + user, 6)];
                await cluster.PostJsonAsync("/v1/completions", Completion(prompt));
                string prefill = PrefillOf(prompt);
                Assert.Equal(placements.TryGetValue(system, out string? earlier) ? earlier : placements[system] = prefill, prefill);
            }
        }
        // Rendezvous hashing spreads twelve prefixes over more than one of three nodes.
        Assert.True(placements.Values.Distinct().Count() > 1);

        // A prompt no longer than one block has no prefix to share: it is balanced by load alone, and succeeds.
        await cluster.PostJsonAsync("/v1/completions", Completion(Tokens(99, 8)));

        // The preferred node over the bound: the same prefix goes to another node.
        string preferred = placements[0];
        int probes = 0;
        cluster.Prefill.Single(p => NodeAddress.Same(p.Address, preferred)).ReportedRunning = 9;
        await TestCluster.WaitUntilAsync(async () =>
        {
            int[] probe = [.. Tokens(0, 8), 100 + probes % 50, 100 + probes++ / 50, 1, 2];
            await cluster.PostJsonAsync("/v1/completions", Completion(probe));
            return !NodeAddress.Same(PrefillOf(probe), preferred);
        }, TimeSpan.FromSeconds(5), "a loaded prefill node loses its prefixes to the others");
    }

    [Fact]
    public async Task Usage_reports_cached_tokens_and_the_kv_bytes_reuse_saved_summed_over_the_prompts()
    {
        await using var cluster = await TestCluster.StartAsync();
        int[] first = Tokens(3, 20), second = Tokens(4, 12);
        JsonElement body = await cluster.PostJsonAsync("/v1/completions", new
        {
            model = TestCluster.ModelId, prompt = new[] { first, second }, max_tokens = 2, temperature = 0,
        });
        var usage = body.GetProperty("usage");
        // The fake decode node reports cached = prompt/4, reused = prompt/2, bytes reused = 30 per prompt token.
        Assert.Equal(20 / 4 + 12 / 4, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        var kv = usage.GetProperty("kv_transfer");
        Assert.Equal(20 / 2 + 12 / 2, kv.GetProperty("reused_prompt_tokens").GetInt32());
        Assert.Equal(30L * 32, kv.GetProperty("bytes_reused").GetInt64());
        Assert.Equal(200L * 32, kv.GetProperty("bytes_sent").GetInt64());
        Assert.Equal(1000L * 32, kv.GetProperty("bytes_full").GetInt64());

        string metrics = await cluster.Http.GetStringAsync("/metrics");
        Assert.Contains("pdserve_gateway_kv_transfer_bytes_total{kind=\"reused\"} 960", metrics);
        Assert.Contains("pdserve_gateway_reused_prompt_tokens_total 16", metrics);
        Assert.Contains("pdserve_gateway_cached_prompt_tokens_total 8", metrics);
    }

    [Fact]
    public void The_directory_finds_the_longest_strict_prefix_and_forgets_the_oldest_beyond_its_capacity()
    {
        var directory = new ConversationDirectory(capacity: 2);
        directory.Record(PromptPrefixHash.Of([1, 2, 3]), "http://a");
        directory.Record(PromptPrefixHash.Of([1, 2, 3, 4, 5]), "http://b");
        Assert.Equal(("http://b", 5), directory.Find(PromptPrefixHash.Of([1, 2, 3, 4, 5, 6])));
        Assert.Equal(("http://a", 3), directory.Find(PromptPrefixHash.Of([1, 2, 3, 4])));
        // The whole prompt is no strict prefix of itself.
        Assert.Equal(("http://a", 3), directory.Find(PromptPrefixHash.Of([1, 2, 3, 4, 5])));
        Assert.Null(directory.Find(PromptPrefixHash.Of([2, 2, 3, 4])));

        directory.Record(PromptPrefixHash.Of([7, 8]), "http://c");
        Assert.Equal(2, directory.Count);
        Assert.Null(directory.Find(PromptPrefixHash.Of([1, 2, 3, 4])));
        // Recorded again, an entry becomes the newest.
        directory.Record(PromptPrefixHash.Of([1, 2, 3, 4, 5]), "http://d");
        directory.Record(PromptPrefixHash.Of([9]), "http://e");
        Assert.Equal(("http://d", 5), directory.Find(PromptPrefixHash.Of([1, 2, 3, 4, 5, 6])));
        Assert.Null(directory.Find(PromptPrefixHash.Of([7, 8, 9])));
    }

    [Fact]
    public void Prefix_hashes_extend_one_another_and_depend_on_every_token_and_its_order()
    {
        int[] prompt = [5, 300000, 7, 7, 1 << 20];
        ulong[] hashes = PromptPrefixHash.Of(prompt);
        for (int length = 1; length <= prompt.Length; length++)
            Assert.Equal(PromptPrefixHash.Of(prompt.Take(length).ToArray())[^1], hashes[length - 1]);
        Assert.Equal(prompt.Length, hashes.Distinct().Count());
        Assert.NotEqual(PromptPrefixHash.Of([1, 2])[^1], PromptPrefixHash.Of([2, 1])[^1]);
    }
}
