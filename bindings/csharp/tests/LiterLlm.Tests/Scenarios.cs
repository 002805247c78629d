using System.Text.Json.Nodes;

namespace LiterLlm.Tests;

/// <summary>The shared scenario list, tests/scenarios/scenarios.json.</summary>
public static class Scenarios
{
    static readonly Lazy<JsonObject> _doc = new(() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(FindFile()))!);

    public static JsonObject Document => _doc.Value;

    public static string FindFile()
    {
        var env = Environment.GetEnvironmentVariable("LITERLLM_SCENARIOS");
        if (!string.IsNullOrEmpty(env))
            return env;
        var built = typeof(Scenarios).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LiterLlmScenarios")?.Value;
        if (built != null && File.Exists(built))
            return built;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "tests", "scenarios", "scenarios.json");
            if (File.Exists(p))
                return p;
        }
        throw new FileNotFoundException("tests/scenarios/scenarios.json not found above " + AppContext.BaseDirectory + " (set LITERLLM_SCENARIOS)");
    }

    public static IEnumerable<object[]> Names() =>
        Document["scenarios"]!.AsArray().Select(s => new object[] { (string)s!["name"]! });

    public static JsonObject Get(string name) =>
        (JsonObject)Document["scenarios"]!.AsArray().First(s => (string)s!["name"]! == name)!;
}
