using PdServe.Engine.Runtime;
using static TorchSharp.torch;

namespace PdServe.Engine.Tests.Runtime;

public class PartnerThreadTests
{
    [Fact]
    public void Split_linear_equals_the_whole_product_over_many_calls()
    {
        using var partner = new PartnerThread();
        using var noGrad = no_grad();
        using Tensor weight = randn(96, 40, generator: new Generator(3));
        using Tensor bias = randn(96, generator: new Generator(4));
        for (int call = 0; call < 200; call++)
        {
            using var scope = NewDisposeScope();
            Tensor x = randn(1 + call % 5, 40);
            (Tensor first, Tensor second) = partner.Linear(x, weight.narrow(0, 0, 48), bias.narrow(0, 0, 48),
                weight.narrow(0, 48, 48), bias.narrow(0, 48, 48));
            Tensor expected = nn.functional.linear(x, weight, bias);
            Assert.True(cat([first, second], -1).allclose(expected, rtol: 1e-5, atol: 1e-5), $"call {call}");
        }
    }

    [Fact]
    public void A_failure_on_the_partner_reaches_the_caller_and_the_partner_keeps_working()
    {
        using var partner = new PartnerThread();
        using Tensor a = ones(2, 3), b = ones(4, 5);
        var error = Assert.Throws<InvalidOperationException>(() => partner.Run(() => a + 1, () => a + b));
        Assert.Contains("partner", error.Message);

        (Tensor first, Tensor second) = partner.Run(() => a + 1, () => a * 3);
        Assert.Equal(2f, first[0, 0].item<float>());
        Assert.Equal(3f, second[0, 0].item<float>());
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public void A_failure_on_the_caller_waits_for_the_partner_and_leaves_it_usable()
    {
        using var partner = new PartnerThread();
        using Tensor a = ones(2, 3), b = ones(4, 5);
        Assert.ThrowsAny<Exception>(() => partner.Run(() => a + b, () => a * 2));
        (Tensor first, Tensor second) = partner.Run(() => a * 5, () => a * 7);
        Assert.Equal(5f, first[1, 2].item<float>());
        Assert.Equal(7f, second[1, 2].item<float>());
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public async Task The_partner_sleeps_when_idle_and_wakes_for_the_next_job()
    {
        using var partner = new PartnerThread();
        using Tensor a = ones(3);
        await Task.Delay(50); // well past the idle spin: the partner is asleep now
        (Tensor first, Tensor second) = partner.Run(() => a * 2, () => a * 4);
        Assert.Equal(4f, second[0].item<float>());
        first.Dispose();
        second.Dispose();
    }
}
