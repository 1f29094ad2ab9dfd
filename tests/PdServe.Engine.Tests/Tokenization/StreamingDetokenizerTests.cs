using PdServe.Engine.Tokenization;

namespace PdServe.Engine.Tests.Tokenization;

public sealed class StreamingDetokenizerTests
{
    [Theory]
    [InlineData(new byte[] { }, 0)]
    [InlineData(new byte[] { 0x41, 0x42 }, 2)]
    [InlineData(new byte[] { 0x41, 0xC3 }, 1)]             // é started
    [InlineData(new byte[] { 0x41, 0xC3, 0xA9 }, 3)]       // é complete
    [InlineData(new byte[] { 0xE6, 0x97 }, 0)]             // 日 two of three bytes
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 }, 0)]       // 😀 three of four
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98, 0x80 }, 4)] // 😀 complete
    [InlineData(new byte[] { 0x80, 0x80 }, 2)]             // stray continuation bytes: nothing to wait for
    public void CompletePrefixLength_StopsBeforeAnUnfinishedSequence(byte[] bytes, int expected) =>
        Assert.Equal(expected, StreamingDetokenizer.CompletePrefixLength(bytes.ToList()));
}

public sealed class RequiresAttributesTests
{
    [Fact]
    public void MissingSharedModelOrFile_IsReportedAsSkip()
    {
        Assert.NotNull(new PdServe.TestSupport.RequiresSharedModelFactAttribute("no-such-model-xyz").Skip);
        Assert.NotNull(new PdServe.TestSupport.RequiresRepoFileFactAttribute("no/such/file.json").Skip);
        Assert.Null(new PdServe.TestSupport.RequiresRepoFileFactAttribute("PdServe.sln").Skip);
        Assert.NotNull(PdServe.TestSupport.RepoPaths.RepoRoot);
    }
}
