using System.Text.Json.Nodes;

namespace LiterLlm.Tests;

/// <summary>llm_call through LiterLlmClient.Call / CallAsync and the conveniences, against the upstream.</summary>
[Collection("upstream")]
public sealed class CallTests
{
    readonly Upstream _up;

    public CallTests(Upstream up) => _up = up;

    LiterLlmClient NewClient() => LiterLlmClient.Create(new JsonObject
    {
        ["max_retries"] = 0,
        ["providers"] = new JsonObject
        {
            ["openai"] = new JsonObject { ["base_url"] = _up.BaseUrl, ["api_key"] = "sk-test-key-0123456789" },
        },
    });

    [Fact]
    public async Task EmbedGivesOneVectorPerInputMatchingTheJson()
    {
        using var client = NewClient();
        var vs = await client.EmbedAsync(["one", "two", "three"], "openai/text-embedding-3-small");
        Assert.Equal(3, vs.Length);
        Assert.All(vs, v => Assert.Equal(1536, v.Length));
        var one = await client.EmbedAsync("two", "openai/text-embedding-3-small");
        Assert.Equal(vs[1], one);

        var r = client.Call("embeddings", new JsonObject
        {
            ["model"] = "openai/text-embedding-3-small",
            ["input"] = new JsonArray("a", "b"),
            ["dimensions"] = 4,
        });
        Assert.Equal(2, r.EmbeddingCount);
        Assert.Equal(4, r.EmbeddingDimensions);
        Assert.Equal(8, r.EmbeddingsFlat.Length);
        foreach (var d in (JsonArray)r.Parse()!["data"]!)
        {
            var i = (int)d!["index"]!;
            var fromJson = ((JsonArray)d["embedding"]!).Select(x => (float)(double)x!).ToArray();
            Assert.Equal(fromJson, r.Embeddings()[i].ToArray());
        }
    }

    [Fact]
    public async Task ModelsListsTheUpstreamModels()
    {
        using var client = NewClient();
        var ids = (await client.ModelsAsync("openai")).Select(m => m.Id).ToList();
        Assert.Contains("gpt-4o-mini", ids);
        Assert.Contains("gpt-4o", ids);
    }

    [Fact]
    public async Task SpeechBytesTranscribeBackFromPinnedUploads()
    {
        using var client = NewClient();
        var (audio, ct) = await client.SpeechAsync("round trip words", "openai/tts-1", "alloy",
            new JsonObject { ["response_format"] = "wav" });
        Assert.Equal("audio/wav", ct);
        Assert.Equal("RIFF"u8.ToArray(), audio[..4]);

        // Async: the upload (a slice of a larger array) stays pinned until the done callback.
        var big = new byte[audio.Length + 10];
        audio.CopyTo(big, 5);
        var t = await client.TranscribeAsync(big.AsMemory(5, audio.Length), "speech.wav", "openai/whisper-1");
        Assert.Equal("round trip words", (string?)t!["text"]);
        // Blocking.
        var r = client.Call("audio.transcriptions", new JsonObject
        {
            ["model"] = "openai/whisper-1",
            ["file"] = new JsonObject { ["data"] = 0, ["filename"] = "speech.wav" },
        }, [audio]);
        Assert.Equal("round trip words", (string?)r.Parse()!["text"]);
        // From a path.
        var path = Path.Combine(Path.GetTempPath(), $"literllm-cs-{Environment.ProcessId}-{Guid.NewGuid():N}.wav");
        File.WriteAllBytes(path, audio);
        try
        {
            var f = await client.TranscribeFileAsync(path, "openai/whisper-1");
            Assert.Equal("round trip words", (string?)f!["text"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PreviewCallShowsTheUploadAsAPart()
    {
        using var client = NewClient();
        var pv = JsonNode.Parse(client.PreviewCall("audio.transcriptions", new JsonObject
        {
            ["model"] = "openai/whisper-1",
            ["file"] = new JsonObject { ["data"] = 0, ["filename"] = "a.wav" },
        }, ["RIFF0000WAVE"u8.ToArray()]))!;
        Assert.Contains(((JsonArray)pv["parts"]!), p =>
            (string?)p!["name"] == "file" && (string?)p["filename"] == "a.wav" && (int)p["bytes"]! == 12);
    }

    [Fact]
    public async Task CallErrorsAreTyped()
    {
        using var client = NewClient();
        Assert.Throws<InvalidArgumentException>(() => client.Call("no.such.endpoint", null));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.CallAsync("no.such.endpoint", null));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.CallAsync("audio.transcriptions", new JsonObject
        {
            ["model"] = "openai/whisper-1",
            ["file"] = new JsonObject { ["data"] = 3, ["filename"] = "a.wav" },
        }));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CallAsync("models", null, null, cts.Token));
    }
}
