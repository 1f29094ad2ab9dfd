namespace PdServe.Architecture.Tests;

/// <summary>Strongly connected components (Tarjan) of a folder graph: every component with two or more folders is a cycle.</summary>
public static class FolderCycles
{
    public static IReadOnlyList<IReadOnlyList<string>> Find(IReadOnlyDictionary<string, Dictionary<string, string>> edges)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var lowLink = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var cycles = new List<IReadOnlyList<string>>();
        int next = 0;
        foreach (string folder in edges.Keys.Order(StringComparer.Ordinal))
            if (!index.ContainsKey(folder)) Visit(folder);
        return cycles;

        void Visit(string folder)
        {
            index[folder] = lowLink[folder] = next++;
            stack.Push(folder);
            onStack.Add(folder);
            foreach (string target in edges.TryGetValue(folder, out var targets) ? targets.Keys.ToList() : [])
            {
                if (!index.ContainsKey(target))
                {
                    Visit(target);
                    lowLink[folder] = Math.Min(lowLink[folder], lowLink[target]);
                }
                else if (onStack.Contains(target))
                {
                    lowLink[folder] = Math.Min(lowLink[folder], index[target]);
                }
            }
            if (lowLink[folder] != index[folder]) return;
            var component = new List<string>();
            string member;
            do
            {
                member = stack.Pop();
                onStack.Remove(member);
                component.Add(member);
            } while (member != folder);
            if (component.Count > 1) cycles.Add(component.Order(StringComparer.Ordinal).ToList());
        }
    }
}
