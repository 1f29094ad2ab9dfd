using System.ClientModel;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;
using PdServe.Gateway.Tests.Fakes;

namespace PdServe.Gateway.Tests;

/// <summary>
/// The .NET AI abstractions against the gateway: Microsoft.Extensions.AI's <see cref="IChatClient"/> from the OpenAI
/// SDK's adapter (what Semantic Kernel and MEAI users write), streaming and not.
/// </summary>
public sealed class MeaiChatClientTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    private IChatClient Client => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Cluster.Address + "/v1") })
        .GetChatClient(TestCluster.ModelId).AsIChatClient();

    private static readonly ChatOptions Greedy = new() { Temperature = 0, MaxOutputTokens = 100 };

    [Fact]
    public async Task A_response_carries_the_generated_text_usage_and_the_finish_reason()
    {
        using IChatClient client = Client;
        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "In the beginning")], Greedy);

        Assert.Equal(FakeScript.GreedyText, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.True(response.Usage?.InputTokenCount > 0);
        Assert.Equal(Cluster.Tokenizer.Encode(FakeScript.GreedyText, addSpecialTokens: false).Count + 1, response.Usage?.OutputTokenCount);
        // MaxOutputTokens travels as max_completion_tokens and reaches the decode node.
        Assert.Contains(Cluster.Decode.SelectMany(n => n.Calls), c => c.Request.Sampling.MaxTokens == 100 && c.Request.Sampling.Temperature == 0);
    }

    [Fact]
    public async Task A_streamed_response_adds_up_to_the_same_text_in_more_than_one_update()
    {
        using IChatClient client = Client;
        var text = new StringBuilder();
        int updates = 0;
        ChatFinishReason? finish = null;
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "In the beginning")], Greedy))
        {
            text.Append(update.Text);
            if (update.Text.Length > 0) updates++;
            finish ??= update.FinishReason;
        }

        Assert.Equal(FakeScript.GreedyText, text.ToString());
        Assert.True(updates > 1, $"{updates} text updates");
        Assert.Equal(ChatFinishReason.Stop, finish);
    }
}
