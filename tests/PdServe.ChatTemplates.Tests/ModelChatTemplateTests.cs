using PdServe.Engine.Tokenization;
using PdServe.TestSupport;

namespace PdServe.ChatTemplates.Tests;

/// <summary>
/// The chat templates of the models the repository's tests serve, read as the gateway reads them (the tokenizer's
/// chat_template). Both are base models without one, so the gateway gives them its plain "Role: content" format;
/// a model that gains a template needs a rendering test of it here.
/// </summary>
public sealed class ModelChatTemplateTests
{
    [RequiresRepoFileFact("models/kjv-llama/tokenizer_config.json")]
    public void The_kjv_llama_model_has_no_chat_template()
    {
        Assert.Null(TextTokenizer.Load(RepoPaths.InRepo("models/kjv-llama")!).ChatTemplate);
    }

    [RequiresSharedModelFact]
    public void The_stories260k_model_has_no_chat_template()
    {
        Assert.Null(TextTokenizer.Load(SharedModels.Stories260kPath).ChatTemplate);
    }
}
