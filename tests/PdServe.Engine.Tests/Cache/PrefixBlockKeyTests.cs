using PdServe.Engine.Cache;

namespace PdServe.Engine.Tests.Cache;

public sealed class PrefixBlockKeyTests
{
    private static int[] Tokens(int count, int seed) => PdServe.TestSupport.TinyModels.RandomTokens(count, 4096, seed);

    [Fact]
    public void A_block_key_depends_on_every_earlier_block_and_on_the_fingerprint()
    {
        int[] second = Tokens(128, seed: 2);
        int[] a = [.. Tokens(128, seed: 1), .. second];
        int[] b = [.. Tokens(128, seed: 3), .. second];
        PrefixBlockKey root = PrefixBlockKey.Root("model-a/plan-1/BFloat16");
        PrefixBlockKey[] chainA = PrefixBlockKey.Chain(root, a, 128, 2);
        PrefixBlockKey[] chainB = PrefixBlockKey.Chain(root, b, 128, 2);

        // The same tokens in block 1 after another block 0 are another block.
        Assert.NotEqual(chainA[1], chainB[1]);
        // The same tokens give the same chain.
        Assert.Equal(chainA, PrefixBlockKey.Chain(root, [.. a], 128, 2));
        Assert.Equal(chainA[0], root.Next(a.AsSpan(0, 128)));
        Assert.Equal(chainA[1], chainA[0].Next(second));
        // Another model or plan: every key differs.
        PrefixBlockKey[] otherModel = PrefixBlockKey.Chain(PrefixBlockKey.Root("model-a/plan-2/BFloat16"), a, 128, 2);
        Assert.NotEqual(chainA[0], otherModel[0]);
        Assert.NotEqual(chainA[1], otherModel[1]);
        // One token changed in block 0 changes both keys.
        int[] changed = [.. a];
        changed[5]++;
        PrefixBlockKey[] chainChanged = PrefixBlockKey.Chain(root, changed, 128, 2);
        Assert.NotEqual(chainA[0], chainChanged[0]);
        Assert.NotEqual(chainA[1], chainChanged[1]);
    }

    [Fact]
    public void A_chain_longer_than_the_tokens_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PrefixBlockKey.Chain(PrefixBlockKey.Root("m"), Tokens(255, 1), 128, 2));
    }
}
