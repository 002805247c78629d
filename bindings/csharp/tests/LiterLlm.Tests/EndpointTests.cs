using System.Text.Json.Nodes;

namespace LiterLlm.Tests;

/// <summary>The endpoint conveniences and CallStreamAsync, against the upstream.</summary>
[Collection("upstream")]
public sealed class EndpointTests
{
    readonly Upstream _up;

    public EndpointTests(Upstream up) => _up = up;

    LiterLlmClient NewClient() => LiterLlmClient.Create(new JsonObject
    {
        ["max_retries"] = 0,
        ["providers"] = new JsonObject
        {
            ["openai"] = new JsonObject { ["base_url"] = _up.BaseUrl, ["api_key"] = "sk-test-key-0123456789" },
        },
    });

    [Fact]
    public async Task ConveniencesCoverImagesModerationFilesBatchesResponses()
    {
        using var client = NewClient();
        var img = await client.GenerateImageAsync("a red square", "openai/dall-e-2", new JsonObject { ["n"] = 1, ["size"] = "256x256" });
        Assert.Single(img!["data"]!.AsArray());
        var mod = await client.ModerateAsync(new JsonArray("a", "b"), "openai/omni-moderation-latest");
        Assert.Equal(2, mod!["results"]!.AsArray().Count);

        var path = Path.Combine(Path.GetTempPath(), $"literllm-cs-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "from a path");
        try
        {
            var a = await client.CreateFileFromPathAsync(path, "assistants", "openai");
            var b = await client.CreateFileAsync("from bytes"u8.ToArray(), "b.txt", "assistants", "openai");
            Assert.Equal((string?)a!["id"], (string?)(await client.RetrieveFileAsync((string)a["id"]!, "openai"))!["id"]);
            Assert.Contains((await client.ListFilesAsync("openai"))!["data"]!.AsArray(), f => (string?)f!["id"] == (string?)b!["id"]);
            Assert.Equal("from a path", System.Text.Encoding.UTF8.GetString((await client.FileContentAsync((string)a["id"]!, "openai")).Content));
            Assert.True((bool)(await client.DeleteFileAsync((string)b!["id"]!, "openai"))!["deleted"]!);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Equal("list", (string?)(await client.ListBatchesAsync("openai", new JsonObject { ["limit"] = 5 }))!["object"]);

        var r = await client.CreateResponseAsync(new JsonObject { ["model"] = "openai/gpt-4o-mini", ["input"] = "keep me" });
        var id = (string)r!["id"]!;
        Assert.Equal(id, (string?)(await client.RetrieveResponseAsync(id, "openai"))!["id"]);
        await client.DeleteResponseAsync(id, "openai");
        await Assert.ThrowsAsync<NotFoundException>(() => client.RetrieveResponseAsync(id, "openai"));
    }

    [Fact]
    public async Task CallStreamGivesEventsThenTheFinalResponse()
    {
        using var client = NewClient();
        var stream = client.StreamResponseAsync(new JsonObject { ["model"] = "openai/gpt-4o-mini", ["input"] = "one two three" });
        var types = new List<string>();
        await foreach (var ev in stream)
            types.Add(ev.Type!);
        Assert.Equal("response.created", types[0]);
        Assert.Equal("response.completed", types[^1]);
        Assert.Equal("completed", (string?)stream.Response!.Parse()!["status"]);

        // A token cancelled before the start; an endpoint that does not stream.
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var ev in client.CallStreamAsync("responses.create",
                               new JsonObject { ["model"] = "openai/gpt-4o-mini", ["input"] = "x" }, null, cts.Token))
                Assert.Fail(ev.Json);
        });
        await Assert.ThrowsAsync<InvalidArgumentException>(async () =>
        {
            await foreach (var ev in client.CallStreamAsync("embeddings",
                               new JsonObject { ["model"] = "openai/text-embedding-3-small", ["input"] = "x" }))
                Assert.Fail(ev.Json);
        });
    }
}
