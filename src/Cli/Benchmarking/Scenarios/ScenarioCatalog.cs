namespace PdServe.Cli.Benchmarking.Scenarios;

/// <summary>
/// The scenarios that answer "what do disaggregation and pruning buy": unified against disaggregated on the same two
/// cores; disaggregated with full KV, with the token-aware KV policy and with the prune plan; and those three again
/// with the prefill node behind a link shaped to 1 Gbit/s and to 100 Mbit/s, where bytes turn into latency; and
/// multi-turn conversations with prefix and conversation reuse off and on, on loopback and behind the slowest link.
/// </summary>
public static class ScenarioCatalog
{
    public const string Disaggregation = "Unified vs disaggregated (loopback)";
    public const string Pruning = "KV policy and prune plan (loopback)";

    public static string LinkGroup(int mbit) => $"Shaped link, {LinkRate(mbit).Text}";

    public const string ConversationReuse = "Multi-turn conversations, reuse off and on (loopback)";

    public static string ConversationReuseGroup(int mbit) => $"Multi-turn conversations, reuse off and on, {LinkRate(mbit).Text}";

    /// <summary>A link rate as text ("1 Gbit/s", "100 Mbit/s") and as a scenario-name suffix ("1gbit", "100mbit").</summary>
    private static (string Text, string Suffix) LinkRate(int mbit) =>
        mbit >= 1000 && mbit % 1000 == 0 ? ($"{mbit / 1000} Gbit/s", $"{mbit / 1000}gbit") : ($"{mbit} Mbit/s", $"{mbit}mbit");

    /// <summary>
    /// Conversations on one prefill and two decode nodes (so routing by where a conversation's KV is matters), reuse off
    /// then on: first with the token-aware KV policy (the plan), then with full KV, since the policy caps what a delta can
    /// save on its selected layers (README, "Prefix reuse").
    /// </summary>
    private static IEnumerable<ServingScenario> ConversationScenarios(string group, string suffix, int? mbit, string kvPlan)
    {
        string link = mbit is { } m ? $", prefill node behind a {LinkRate(m).Text} tbf-shaped veth" : "";
        yield return new($"multiturn-reuse-off{suffix}", group,
            $"one prefill and two decode nodes, multi-turn conversations, token-aware KV policy ({kvPlan}), reuse off (no prefix cache, no conversation cache, least-load routing){link}",
            1, 2, kvPlan, mbit, null) { Reuse = false, Conversations = true };
        yield return new($"multiturn-reuse-on{suffix}", group,
            $"the same with reuse on (prefix cache on the prefill node, conversations parked on the decode nodes, routing by KV){link}",
            1, 2, kvPlan, mbit, $"multiturn-reuse-off{suffix}") { Reuse = true, Conversations = true };
        yield return new($"multiturn-full-reuse-off{suffix}", group, $"as multiturn-reuse-off{suffix} with full KV (no plan)",
            1, 2, null, mbit, null) { Reuse = false, Conversations = true };
        yield return new($"multiturn-full-reuse-on{suffix}", group, $"as multiturn-reuse-on{suffix} with full KV (no plan)",
            1, 2, null, mbit, $"multiturn-full-reuse-off{suffix}") { Reuse = true, Conversations = true };
    }

    public static IReadOnlyList<ServingScenario> Create(string kvPlan, string prunePlan, IReadOnlyList<int> linkMbits)
    {
        var scenarios = new List<ServingScenario>
        {
            new("unified", Disaggregation, "two unified decode nodes (each prefills its own requests), one core each", 0, 2, null, null, null),
            new("pd", Disaggregation, "one prefill and one decode node, one core each, full KV transfer", 1, 1, null, null, "unified"),
            new("pd-kv", Pruning, $"disaggregated, token-aware KV policy ({kvPlan})", 1, 1, kvPlan, null, "pd"),
            new("pd-plan", Pruning, $"disaggregated, prune plan: pruned blocks and KV policy ({prunePlan})", 1, 1, prunePlan, null, "pd"),
        };
        foreach (int mbit in linkMbits.OrderByDescending(m => m))
        {
            string group = LinkGroup(mbit);
            var (rate, suffix) = LinkRate(mbit);
            scenarios.Add(new($"pd-{suffix}", group, $"disaggregated, full KV, prefill node behind a {rate} tbf-shaped veth", 1, 1, null, mbit, "pd"));
            scenarios.Add(new($"pd-kv-{suffix}", group, "the same with the token-aware KV policy", 1, 1, kvPlan, mbit, $"pd-{suffix}"));
            scenarios.Add(new($"pd-plan-{suffix}", group, "the same with the prune plan", 1, 1, prunePlan, mbit, $"pd-{suffix}"));
        }
        scenarios.AddRange(ConversationScenarios(ConversationReuse, "", null, kvPlan));
        // Reuse saves bytes; the slowest link is where saved bytes show most as time.
        if (linkMbits.Count > 0)
        {
            int slowest = linkMbits.Min();
            scenarios.AddRange(ConversationScenarios(ConversationReuseGroup(slowest), "-" + LinkRate(slowest).Suffix, slowest, kvPlan));
        }
        return scenarios;
    }
}
