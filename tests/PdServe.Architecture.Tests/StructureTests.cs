using PdServe.TestSupport;

namespace PdServe.Architecture.Tests;

/// <summary>
/// Keeps the structure README describes: inside every project the folders depend on each other one way, the engine
/// knows nothing of gRPC or HTTP, and the KV-transfer layer knows nothing of the model's math.
/// </summary>
public sealed class StructureTests
{
    private static string SourceRoot => RepoPaths.InRepo("src") ?? throw new InvalidOperationException("run from a checkout");

    public static TheoryData<string> Projects()
    {
        var data = new TheoryData<string>();
        foreach (string directory in Directory.EnumerateDirectories(SourceRoot).Order(StringComparer.Ordinal))
            if (Directory.EnumerateFiles(directory, "*.csproj").Any()) data.Add(Path.GetFileName(directory));
        return data;
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void No_two_folders_of_a_project_depend_on_each_other(string project)
    {
        SourceTree tree = SourceTree.Read(Path.Combine(SourceRoot, project));
        var edges = tree.FolderDependencies();
        var cycles = FolderCycles.Find(edges);
        Assert.True(cycles.Count == 0, $"src/{project} has folder cycles:\n" + string.Join("\n", cycles.Select(cycle =>
            string.Join(" <-> ", cycle) + "\n" + string.Join("\n", cycle.SelectMany(from => edges[from]
                .Where(edge => cycle.Contains(edge.Key)).Select(edge => $"    {from} -> {edge.Key}: {edge.Value}"))))));
    }

    [Fact]
    public void The_engine_uses_neither_grpc_nor_http()
    {
        SourceTree engine = SourceTree.Read(Path.Combine(SourceRoot, "Engine"));
        var offending = engine.Usings()
            .Where(u => u.Namespace.StartsWith("Grpc", StringComparison.Ordinal) || u.Namespace.StartsWith("Google.Protobuf", StringComparison.Ordinal)
                || u.Namespace.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || u.Namespace.StartsWith("System.Net.Http", StringComparison.Ordinal)
                || u.Namespace.StartsWith("PdServe.", StringComparison.Ordinal) && !u.Namespace.StartsWith("PdServe.Engine", StringComparison.Ordinal))
            .Select(u => $"{u.File.RelativePath}: using {u.Namespace}")
            .ToList();
        Assert.True(offending.Count == 0, string.Join("\n", offending));
        string project = File.ReadAllText(Path.Combine(SourceRoot, "Engine", "PdServe.Engine.csproj"));
        Assert.DoesNotContain("Grpc", project, StringComparison.Ordinal);
        Assert.DoesNotContain("ProjectReference", project, StringComparison.Ordinal);
    }

    [Fact]
    public void The_kv_transfer_layer_knows_nothing_of_the_model()
    {
        SourceTree transfer = SourceTree.Read(Path.Combine(SourceRoot, "KvTransfer"));
        var offending = transfer.Usings()
            .Where(u => u.Namespace.StartsWith("PdServe.Engine.Model", StringComparison.Ordinal)
                || u.Namespace.StartsWith("PdServe.Engine.Generation", StringComparison.Ordinal)
                || u.Namespace.StartsWith("PdServe.Training", StringComparison.Ordinal))
            .Select(u => $"{u.File.RelativePath}: using {u.Namespace}")
            .ToList();
        Assert.True(offending.Count == 0, string.Join("\n", offending));
    }

    [Fact]
    public void A_member_or_method_named_like_another_folders_type_is_not_a_use_of_it()
    {
        using var project = new TempDirectory();
        Directory.CreateDirectory(project.Combine("Model"));
        Directory.CreateDirectory(project.Combine("Kernels"));
        Directory.CreateDirectory(project.Combine("Runner"));
        File.WriteAllText(project.Combine("Model/RmsNorm.cs"), "namespace P.Model;\npublic sealed class RmsNorm { }\n");
        File.WriteAllText(project.Combine("Kernels/VectorKernels.cs"),
            "namespace P.Kernels;\npublic static class VectorKernels\n{\n    public static void RmsNorm(float[] x) { }\n    static void Use() => Limits.RmsNorm(null);\n}\n");
        File.WriteAllText(project.Combine("Runner/Step.cs"),
            "namespace P.Runner;\npublic sealed class Step\n{\n    // a RmsNorm in a comment is no use\n    private readonly RmsNorm norm = new RmsNorm();\n}\n");

        var edges = SourceTree.Read(project.Path).FolderDependencies();

        Assert.Empty(edges["Kernels"]);
        Assert.Equal(["Model"], edges["Runner"].Keys);
    }

    [Fact]
    public void The_cycle_finder_finds_a_cycle_and_only_the_cycle()
    {
        var edges = new Dictionary<string, Dictionary<string, string>>
        {
            ["Api"] = new() { ["Routing"] = "" },
            ["Routing"] = new() { ["Api"] = "", ["Hosting"] = "" },
            ["Hosting"] = new(),
        };
        var cycles = FolderCycles.Find(edges);
        Assert.Equal([["Api", "Routing"]], cycles);
        edges["Routing"].Remove("Api");
        Assert.Empty(FolderCycles.Find(edges));
    }
}
