using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiterLlm.Native;
using Microsoft.Extensions.AI; // extension methods; LiterLlm's own types still win inside its namespace
using AI = Microsoft.Extensions.AI;

namespace LiterLlm.Tests;

/// <summary>The binding's own behaviour beyond the shared scenarios.</summary>
[Collection("upstream")]
public sealed class ApiTests
{
    readonly Upstream _up;

    public ApiTests(Upstream up) => _up = up;

    LiterLlmClient NewClient(LiterLlmClientOptions? options = null) => LiterLlmClient.Create(new JsonObject
    {
        ["max_retries"] = 0,
        ["providers"] = new JsonObject
        {
            ["openai"] = new JsonObject { ["base_url"] = _up.BaseUrl, ["api_key"] = "sk-test-key-0123456789" },
        },
    }, options);

    static ChatRequest Req(string text, Dictionary<string, string>? headers = null) => new()
    {
        Model = "openai/gpt-4o-mini",
        Messages = { ChatMessage.User(text) },
        ExtraHeaders = headers,
    };

    static readonly Dictionary<string, string> Endless = new()
    {
        ["x-upstream-generate"] = "content",
        ["x-upstream-chunk-delay-ms"] = "5",
    };

    [Fact]
    public void VersionMatchesTheHeader()
    {
        Assert.Equal($"{LlmConstants.LLM_VERSION_MAJOR}.{LlmConstants.LLM_VERSION_MINOR}.{LlmConstants.LLM_VERSION_PATCH}", LiterLlmLibrary.Version);
        Assert.Equal((uint)LlmConstants.LLM_VERSION_NUMBER, LiterLlmLibrary.VersionNumber);
    }

    [Fact]
    public unsafe void StatusNamesMatchTheLibrary()
    {
        foreach (var st in Enum.GetValues<LlmStatus>())
        {
            Assert.Equal(Utf8.Read(NativeMethods.llm_status_str(st)), LlmStatusNames.CName(st));
            Assert.Equal(st, LlmStatusNames.Parse(LlmStatusNames.CName(st)));
        }
        Assert.Equal("LLM_ERR_UNKNOWN", Utf8.Read(NativeMethods.llm_status_str((LlmStatus)999)));
    }

    [Fact]
    public void BadConfigThrowsInvalidArgumentNamingTheField()
    {
        var ex = Assert.Throws<InvalidArgumentException>(() => LiterLlmClient.Create("""{"max_retries": "two"}"""));
        Assert.Equal(LlmStatus.InvalidArgument, ex.Status);
        Assert.Contains("max_retries", ex.Message);
        Assert.IsAssignableFrom<LiterLlmException>(ex);
    }

    [Fact]
    public void MissingConfigFileThrows()
    {
        var ex = Assert.Throws<InvalidArgumentException>(() => LiterLlmClient.FromFile("/nonexistent/literllm.toml"));
        Assert.Contains("/nonexistent/literllm.toml", ex.Message);
    }

    [Fact]
    public async Task DisposedClientRefusesCalls()
    {
        var c = NewClient();
        c.Dispose();
        c.Dispose();
        Assert.Throws<ObjectDisposedException>(() => c.Chat(Req("x")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => c.ChatAsync(Req("x")));
    }

    [Fact]
    public async Task ChatAsyncCancellationCancelsTheTransfer()
    {
        using var c = NewClient();
        using var cts = new CancellationTokenSource(200);
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            c.ChatAsync(Req("x", new() { ["x-upstream-delay-ms"] = "5000" }), cts.Token));
        Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms");
        // The client still works afterwards.
        Assert.Equal("Hello from the local upstream. You said: after", (await c.ChatAsync(Req("after"))).Text);
    }

    [Fact]
    public void BlockingChatAndCallEndWhenTheirTokenIsCancelled()
    {
        using var c = NewClient();
        using var cts = new CancellationTokenSource(200);
        var sw = Stopwatch.StartNew();
        var oce = Assert.ThrowsAny<OperationCanceledException>(() =>
            c.Chat(Req("x", new() { ["x-upstream-delay-ms"] = "20000" }), cts.Token));
        Assert.Equal(cts.Token, oce.CancellationToken);
        Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms");

        using var cts2 = new CancellationTokenSource(200);
        sw.Restart();
        Assert.ThrowsAny<OperationCanceledException>(() => c.Call("embeddings", new JsonObject
        {
            ["model"] = "openai/text-embedding-3-small",
            ["input"] = "x",
            ["extra_headers"] = new JsonObject { ["x-upstream-delay-ms"] = "20000" },
        }, null, cts2.Token));
        Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms");

        // A token cancelled before the call: nothing is sent.
        Assert.ThrowsAny<OperationCanceledException>(() => c.ChatJson("{}", new CancellationToken(true)));
        // A token that is never cancelled changes nothing; the client still works.
        using var idle = new CancellationTokenSource();
        Assert.Equal("Hello from the local upstream. You said: after", c.Chat(Req("after"), idle.Token).Text);
        Assert.Equal("Hello from the local upstream. You said: plain", c.Chat(Req("plain"), CancellationToken.None).Text);
    }

    [Fact]
    public void BlockingChatCancellationRacingTheAnswerEndsEveryCall()
    {
        using var c = NewClient();
        var outcomes = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8).SelectMany(t =>
            Enumerable.Range(0, 15).Select(i =>
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds((t * 15 + i) % 12));
                try
                {
                    return c.Chat(Req("race", new() { ["x-upstream-delay-ms"] = "5" }), cts.Token).Text ==
                           "Hello from the local upstream. You said: race" ? 1 : -1;
                }
                catch (OperationCanceledException) { return 0; }
            }).ToList()).ToList();
        Assert.Equal(120, outcomes.Count);
        Assert.DoesNotContain(-1, outcomes);
        Assert.Contains(0, outcomes);
    }

    // ConfigureAwait(false) on purpose: these tests look at the thread that completes each task.
#pragma warning disable xUnit1030
    [Fact]
    public async Task ByDefaultAsyncCallsResumeOnThePoolAndInlineOnesOnTheIoThread()
    {
        using var pooled = NewClient();
        using var inline = NewClient(new LiterLlmClientOptions { InlineCompletions = true });
        Assert.False(pooled.InlineCompletions);
        Assert.True(inline.InlineCompletions);
        // The answers come after 20 ms, so that each task is still pending when awaited (a task
        // already complete would go on synchronously, on this test's own thread).
        var slow = new Dictionary<string, string> { ["x-upstream-delay-ms"] = "20" };
        var r = await pooled.ChatAsync(Req("pool", slow)).ConfigureAwait(false);
        Assert.Equal("Hello from the local upstream. You said: pool", r.Text);
        Assert.True(Thread.CurrentThread.IsThreadPoolThread);
        // Inline: the code after the await runs in the library's done callback, on its I/O thread
        // (not a pool thread), the same one for every call; calls started there work.
        var threads = new HashSet<int>();
        for (var i = 0; i < 10; i++)
        {
            var text = (await inline.ChatAsync(Req($"inline {i}", slow)).ConfigureAwait(false)).Text;
            Assert.Equal($"Hello from the local upstream. You said: inline {i}", text);
            Assert.False(Thread.CurrentThread.IsThreadPoolThread);
            threads.Add(Environment.CurrentManagedThreadId);
        }
        Assert.Single(threads);
        var json = await inline.ChatJsonAsync("{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"j\"}]," +
            "\"extra_headers\":{\"x-upstream-delay-ms\":\"20\"}}").ConfigureAwait(false);
        Assert.Contains("You said: j", json);
        Assert.Contains(Environment.CurrentManagedThreadId, threads);
        var models = await inline.CallAsync("models", new JsonObject { ["extra_headers"] = new JsonObject { ["x-upstream-delay-ms"] = "20" } }).ConfigureAwait(false);
        Assert.Contains(Environment.CurrentManagedThreadId, threads);
        Assert.NotNull(models);
    }

    [Fact]
    public async Task InlineCompletionsRunSixteenAtOnceAndKeepErrorsAndCancellation()
    {
        using var c = NewClient(new LiterLlmClientOptions { InlineCompletions = true });
        var lanes = Enumerable.Range(0, 16).Select(async lane =>
        {
            var texts = new List<string>();
            for (var i = 0; i < 10; i++)
                texts.Add((await c.ChatAsync(Req($"{lane}.{i}")).ConfigureAwait(false)).Text!);
            return texts;
        }).ToArray();
        var all = await Task.WhenAll(lanes).WaitAsync(TimeSpan.FromSeconds(30));
        for (var lane = 0; lane < 16; lane++)
            for (var i = 0; i < 10; i++)
                Assert.Equal($"Hello from the local upstream. You said: {lane}.{i}", all[lane][i]);
        var ex = await Assert.ThrowsAsync<RateLimitedException>(() => c.ChatAsync(Req("x", new() { ["x-upstream-status"] = "429" })));
        Assert.Equal(429, ex.HttpStatus);
        using var cts = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            c.ChatAsync(Req("x", new() { ["x-upstream-delay-ms"] = "5000" }), cts.Token));
    }

    [Fact]
    public async Task ABlockingCallInAnInlineContinuationFailsInsteadOfHanging()
    {
        using var c = NewClient(new LiterLlmClientOptions { InlineCompletions = true });
        var t = Task.Run(async () =>
        {
            await c.ChatAsync(Req("first", new() { ["x-upstream-delay-ms"] = "20" })).ConfigureAwait(false);
            // On the I/O thread now: the blocking form would wait on this very thread.
            return Assert.Throws<InvalidArgumentException>(() => c.Chat(Req("blocked")));
        });
        var ex = await t.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("callback", ex.Message);
        // The client is unharmed: the next call (from a pool thread) works.
        await Task.Yield();
        Assert.Equal("Hello from the local upstream. You said: after", (await c.ChatAsync(Req("after"))).Text);
    }

#pragma warning restore xUnit1030

    [Fact]
    public async Task LeavingAStreamEarlyStopsIt()
    {
        using var c = NewClient();
        var n = 0;
        await foreach (var chunk in c.StreamAsync(Req("x", Endless)))
        {
            if (++n == 3)
                break;
        }
        Assert.Equal(3, n);
        Assert.NotNull((await c.ChatAsync(Req("still usable"))).Text);
    }

    [Fact]
    public async Task DisposingTheClientEndsItsStreams()
    {
        var c = NewClient();
        var seen = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            await foreach (var chunk in c.StreamAsync(Req("x", Endless)))
                seen.TrySetResult();
        });
        await seen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        c.Dispose();
        var ex = await Assert.ThrowsAsync<CancelledException>(() => reader.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(LlmStatus.Cancelled, ex.Status);
    }

    [Fact]
    public void SyncStreamGivesTheFinalResponseAndRawChunks()
    {
        using var c = NewClient();
        using var s = c.Stream(Req("raw chunks please"));
        var first = s.NextJson();
        Assert.NotNull(first);
        Assert.Equal("chat.completion.chunk", (string?)JsonNode.Parse(first!)!["object"]);
        Assert.Throws<InvalidArgumentException>(() => s.FinalResponse()); // before the end
        while (s.Next() != null) { }
        Assert.Null(s.Next());
        var final = s.FinalResponse();
        Assert.Equal("Hello from the local upstream. You said: raw chunks please", final.Text);
        Assert.Equal("openai", final.Provider);
    }

    [Fact]
    public void UnnamedRequestFieldsTravelThroughExtensionData()
    {
        using var c = NewClient();
        var req = Req("x");
        req.ExtensionData = new() { ["prediction"] = JsonDocument.Parse("""{"type":"content","content":"y"}""").RootElement };
        var preview = c.Preview(req);
        var body = JsonNode.Parse(preview.Body)!;
        Assert.Equal("content", (string?)body["prediction"]!["type"]);
        Assert.Equal("POST", preview.Method);
        Assert.Equal("[REDACTED]", preview.Headers.First(h => h.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase)).Value);
    }

    [Fact]
    public void UnnamedResponseFieldsAreKept()
    {
        using var c = NewClient();
        var r = c.Chat(Req("x"));
        Assert.Equal("fp_upstream", r.SystemFingerprint);
        Assert.NotNull(r.Stats);
        Assert.Equal(200, r.Stats!.HttpStatus);
        var raw = JsonNode.Parse(c.ChatJson("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"raw"}]}"""))!;
        Assert.Equal("Hello from the local upstream. You said: raw", (string?)raw["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public void GlobalProvidersCanBeRegisteredAndRemoved()
    {
        Assert.Contains(LiterLlmClient.GlobalProviders(), p => p.Name == "openai");
        var name = "cs-global-" + Environment.ProcessId;
        LiterLlmClient.RegisterGlobalProvider(new ProviderRegistration { Name = name, BaseUrl = _up.BaseUrl, Prefixes = { name }, ApiKey = "k-global-123456" });
        try
        {
            Assert.Contains(LiterLlmClient.GlobalProviders(), p => p.Name == name && p.Registered);
            using var c = NewClient();
            var r = c.Chat(new ChatRequest { Model = name + "/m", Messages = { ChatMessage.User("global") } });
            Assert.Equal(name, r.Provider);
        }
        finally
        {
            LiterLlmClient.UnregisterGlobalProvider(name);
        }
        Assert.Throws<NotFoundException>(() => LiterLlmClient.UnregisterGlobalProvider(name));
    }

    [Fact]
    public async Task ManyConcurrentAsyncCallsOnOneClient()
    {
        using var c = NewClient();
        var tasks = Enumerable.Range(0, 64).Select(i => c.ChatAsync(Req("n" + i))).ToArray();
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < results.Length; i++)
            Assert.Equal("Hello from the local upstream. You said: n" + i, results[i].Text);
    }

    [Fact]
    public async Task CancellationRacingCompletionNeitherLeaksNorCrashes()
    {
        using var c = NewClient();
        var rng = new Random(7);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var cts = new CancellationTokenSource();
            var call = c.ChatAsync(Req("race " + i), cts.Token);
            if (rng.Next(2) == 0)
                await Task.Delay(rng.Next(3));
            cts.Cancel();
            try { return (await call).Text == "Hello from the local upstream. You said: race " + i ? 1 : -1; }
            catch (OperationCanceledException) { return 0; }
        }));
        Assert.DoesNotContain(-1, outcomes);
        // A token cancelled before the call never starts one.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.ChatAsync(Req("x"), new CancellationToken(true)));
    }

    [Fact]
    public async Task ChatAsyncContinuationsNeverRunOnTheIoThread()
    {
        using var c = NewClient();
        // Synchronous continuations run where the task completes: always a pool thread, whether
        // attached before the answer (the usual case) or after it. (One attached to a task that
        // has already completed runs inline, on the attaching thread, which is fine too: the
        // answer can beat the attach, since the call sends its request before it returns.)
        static bool NotTheIoThread(int attacher) =>
            Thread.CurrentThread.IsThreadPoolThread || Environment.CurrentManagedThreadId == attacher;
        for (var i = 0; i < 50; i++)
        {
            var call = c.ChatAsync(Req("where " + i));
            if (i % 2 == 1)
                await ((Task)call).ContinueWith(_ => { }, TaskScheduler.Default); // attach late
            var attacher = Environment.CurrentManagedThreadId;
            var onPool = await call.ContinueWith(t => (NotTheIoThread(attacher), t.Result.Text),
                TaskContinuationOptions.ExecuteSynchronously);
            Assert.True(onPool.Item1);
            Assert.Equal("Hello from the local upstream. You said: where " + i, onPool.Text);
            var jsonCall = c.ChatJsonAsync("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"j"}]}""");
            attacher = Environment.CurrentManagedThreadId;
            var json = await jsonCall.ContinueWith(t => (NotTheIoThread(attacher), t.Result),
                TaskContinuationOptions.ExecuteSynchronously);
            Assert.True(json.Item1);
            Assert.Contains("You said: j", json.Result);
        }
    }

    [Fact]
    public async Task ChatAsyncFailuresGoToTheTask()
    {
        using var c = NewClient();
        // As an async method: nothing is thrown by the call itself.
        var nullRequest = c.ChatAsync(null!);
        Assert.True(nullRequest.IsFaulted);
        await Assert.ThrowsAsync<ArgumentNullException>(() => nullRequest);
        var nullJson = c.ChatJsonAsync(null!);
        await Assert.ThrowsAsync<ArgumentNullException>(() => nullJson);

        using var pre = new CancellationTokenSource();
        pre.Cancel();
        var precancelled = c.ChatAsync(Req("x"), pre.Token);
        Assert.True(precancelled.IsCanceled);
        var oce = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => precancelled);
        Assert.Equal(pre.Token, oce.CancellationToken);

        using var cts = new CancellationTokenSource();
        var call = c.ChatAsync(Req("x", new() { ["x-upstream-delay-ms"] = "5000" }), cts.Token);
        cts.CancelAfter(50);
        oce = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(call.IsCanceled);
        Assert.Equal(cts.Token, oce.CancellationToken);

        var invalid = c.ChatAsync(new ChatRequest { Model = "no-such-provider/x", Messages = { ChatMessage.User("x") } });
        await Assert.ThrowsAsync<InvalidArgumentException>(() => invalid);

        var d = NewClient();
        d.Dispose();
        var disposed = d.ChatJsonAsync("{}");
        Assert.True(disposed.IsFaulted);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => disposed);
    }

    [Fact]
    public async Task UsageDetailsAreTyped()
    {
        // OpenAI sends completion_tokens_details with every answer: typed, not extension data.
        using var c = NewClient();
        var r = await c.ChatAsync(Req("usage"));
        Assert.NotNull(r.Usage);
        Assert.Equal(0, r.Usage!.CompletionTokensDetails?.ReasoningTokens);
        Assert.Null(r.Usage.ExtensionData);
        Assert.Equal(0, r.Usage.PromptTokensDetails?.CachedTokens);
        var again = JsonSerializer.Deserialize(JsonSerializer.Serialize(r, LiterLlmJson.Default.ChatResponse), LiterLlmJson.Default.ChatResponse)!;
        Assert.Equal(0, again.Usage!.CompletionTokensDetails?.ReasoningTokens);
        Assert.Null(again.Usage.CompletionTokensDetails!.AudioTokens);
    }

    [Fact]
    public async Task RequestBuffersAreReusedSafely()
    {
        // Requests are serialized into a per-thread buffer: large ones, small ones after them, raw JSON
        // text with non-ASCII characters, from many threads at once.
        using var c = NewClient();
        var big = new string('x', 100_000);
        Assert.Equal("Hello from the local upstream. You said: " + big, c.Chat(Req(big)).Text);
        Assert.Equal("Hello from the local upstream. You said: small", c.Chat(Req("small")).Text);
        Assert.Equal("Hello from the local upstream. You said: " + big, (await c.ChatAsync(Req(big))).Text);
        Assert.Equal("Hello from the local upstream. You said: é€😀", (await c.ChatAsync(Req("é€😀"))).Text);
        var raw = """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"héllo ☃"}]}""";
        Assert.Contains("You said: héllo ☃", c.ChatJson(raw));
        Assert.Contains("You said: héllo ☃", await c.ChatJsonAsync(raw));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                var text = $"t{t} i{i} " + new string('y', (t * 997 + i * 131) % 3000);
                Assert.Equal("Hello from the local upstream. You said: " + text,
                    i % 2 == 0 ? c.Chat(Req(text)).Text : (await c.ChatAsync(Req(text))).Text);
            }
        })));
    }

    [Fact]
    public async Task DisposingTheClientDuringManyCallsEndsThemAll()
    {
        var c = NewClient();
        // The calls' answers are far later than anything here takes, even sanitized on a slow machine
        // (2 s was not: under ASan the four streams began only after some answers had come).
        var calls = Enumerable.Range(0, 32).Select(i => c.ChatAsync(Req("x", new() { ["x-upstream-delay-ms"] = "60000" }))).ToArray();
        // Each stream has begun (a first chunk came) before the client goes: a stream that
        // had not yet started would rightly meet a disposed client instead.
        var begun = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var streams = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            await foreach (var chunk in c.StreamAsync(Req("x", Endless))) begun[i].TrySetResult();
        })).ToArray();
        await Task.WhenAll(begun.Select(b => b.Task)).WaitAsync(TimeSpan.FromSeconds(10));
        c.Dispose();
        foreach (var t in calls.Cast<Task>().Concat(streams))
            await Assert.ThrowsAsync<CancelledException>(() => t.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task SyncStreamDisposedWhileAnotherThreadReads()
    {
        var c = NewClient();
        var s = c.Stream(Req("x", Endless));
        Assert.NotNull(s.Next());
        // The reader is inside llm_stream_next (CancelledException) or, on a slow machine, between two
        // calls when the handle goes (ObjectDisposedException); never a crash.
        var reader = Task.Run(() =>
        {
            var ex = Record.Exception(() => { while (s.Next() != null) { } });
            Assert.True(ex is CancelledException or ObjectDisposedException, ex?.ToString() ?? "no exception");
        });
        await Task.Delay(50);
        s.Dispose(); // cancels; the native stream is freed once the reader has left llm_stream_next
        await reader.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<ObjectDisposedException>(() => s.Next());
        c.Dispose();
    }

    [Fact]
    public async Task ErrorsCarryEveryField()
    {
        using var c = NewClient();
        var ex = await Assert.ThrowsAsync<ContextWindowExceededException>(() => c.ChatAsync(Req("x", new()
        {
            ["x-upstream-status"] = "400",
            ["x-upstream-body"] = """{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}""",
        })));
        Assert.Equal(400, ex.HttpStatus);
        Assert.Equal("openai", ex.Provider);
        Assert.Equal("context_length_exceeded", ex.Code);
        Assert.Equal("invalid_request_error", ex.Type);
        Assert.Contains("8192", ex.Message);
        Assert.Null(ex.RetryAfter);
        var sync = Assert.Throws<ServiceUnavailableException>(() => c.Chat(Req("x", new() { ["x-upstream-status"] = "503" })));
        Assert.Equal(503, sync.HttpStatus);
        Assert.Equal(0, sync.Info.Retries);
    }

    // ------------------------------------------------------------ IChatClient

    [Fact]
    public async Task ChatClientAnswers()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var r = await chat.GetResponseAsync("hello abstractions");
        Assert.Equal("Hello from the local upstream. You said: hello abstractions", r.Text);
        Assert.Equal(AI.ChatFinishReason.Stop, r.FinishReason);
        Assert.Equal(2, r.Usage!.InputTokenCount); // the upstream counts words
        Assert.Equal("literllm", chat.GetService<AI.ChatClientMetadata>()!.ProviderName);
        Assert.NotNull(chat.GetService<LiterLlmClient>());
    }

    [Fact]
    public async Task ChatClientStreams()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var updates = new List<AI.ChatResponseUpdate>();
        await foreach (var u in chat.GetStreamingResponseAsync("stream through abstractions"))
            updates.Add(u);
        Assert.True(updates.Count >= 3);
        Assert.Equal("Hello from the local upstream. You said: stream through abstractions", updates.ToChatResponse().Text);
    }

    [Fact]
    public async Task ChatClientToolCallsAndStructuredOutput()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var tool = AI.AIFunctionFactory.Create((string city, int days) => $"{city}:{days}", "get_weather");
        var opts = new AI.ChatOptions { Tools = [tool] };
        var r = await chat.GetResponseAsync("weather?", opts);
        var call = Assert.Single(r.Messages.SelectMany(m => m.Contents).OfType<AI.FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("call_0", call.CallId);
        Assert.Equal("sample", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(AI.ChatFinishReason.ToolCalls, r.FinishReason);

        var streamed = new List<AI.ChatResponseUpdate>();
        await foreach (var u in chat.GetStreamingResponseAsync("weather?", opts))
            streamed.Add(u);
        Assert.Single(streamed.SelectMany(u => u.Contents).OfType<AI.FunctionCallContent>());

        // The tool's result goes back as a tool message.
        var history = new List<AI.ChatMessage> { new(AI.ChatRole.User, "weather?") };
        history.AddRange(r.Messages);
        history.Add(new AI.ChatMessage(AI.ChatRole.Tool, [new AI.FunctionResultContent(call.CallId, "sunny")]));
        var after = await chat.GetResponseAsync(history, opts);
        Assert.Equal(AI.ChatFinishReason.Stop, after.FinishReason);

        var schema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}""").RootElement;
        var structured = await chat.GetResponseAsync("a person", new AI.ChatOptions { ResponseFormat = AI.ChatResponseFormat.ForJsonSchema(schema, "person") });
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"name":"sample","age":1}"""), JsonNode.Parse(structured.Text)));
    }

    [Fact]
    public async Task ChatClientStreamingCancels()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        using var cts = new CancellationTokenSource();
        var opts = new AI.ChatOptions { AdditionalProperties = new() { ["extra_headers"] = Endless } };
        var n = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in chat.GetStreamingResponseAsync("x", opts, cts.Token))
                if (++n == 2)
                    cts.Cancel();
        });
        Assert.True(n >= 2);
    }

    LiterLlmClient NewAnthropicClient() => LiterLlmClient.Create(new JsonObject
    {
        ["max_retries"] = 0,
        ["providers"] = new JsonObject
        {
            ["anthropic"] = new JsonObject { ["base_url"] = _up.BaseUrl[..^"/v1".Length], ["api_key"] = "sk-ant-test-0123456789" },
        },
    });

    // A tool loop with Anthropic's extended thinking through IChatClient: the answer's thinking blocks
    // travel in TextReasoningContent.ProtectedData and go back with the history (the upstream, as
    // Anthropic, refuses a tool result after thinking without them), answered or streamed, by hand
    // and through Microsoft.Extensions.AI's own tool loop (UseFunctionInvocation).
    [Fact]
    public async Task ChatClientToolLoopKeepsTheReasoningState()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewAnthropicClient(), "anthropic/claude-sonnet-4-5", ownsClient: true);
        var tool = AI.AIFunctionFactory.Create((string city) => $"{city}: 21", "get_weather");
        var opts = new AI.ChatOptions { Tools = [tool], Reasoning = new AI.ReasoningOptions { Effort = AI.ReasoningEffort.Low } };
        foreach (var streamed in new[] { false, true })
        {
            AI.ChatResponse r;
            if (streamed)
            {
                var updates = new List<AI.ChatResponseUpdate>();
                await foreach (var u in chat.GetStreamingResponseAsync("weather in Paris?", opts))
                    updates.Add(u);
                r = updates.ToChatResponse();
            }
            else
            {
                r = await chat.GetResponseAsync("weather in Paris?", opts);
            }
            var contents = r.Messages.SelectMany(m => m.Contents).ToList();
            var reasoning = contents.OfType<AI.TextReasoningContent>().ToList();
            Assert.Contains(reasoning, x => x.ProtectedData != null);
            Assert.Contains(reasoning, x => x.Text.Length > 0);
            var call = Assert.Single(contents.OfType<AI.FunctionCallContent>());
            var history = new List<AI.ChatMessage> { new(AI.ChatRole.User, "weather in Paris?") };
            history.AddRange(r.Messages);
            history.Add(new AI.ChatMessage(AI.ChatRole.Tool, [new AI.FunctionResultContent(call.CallId, "21")]));
            Assert.NotNull((await chat.GetResponseAsync(history, opts)).Text);
            // Without the protected data the upstream refuses, as Anthropic does: the test can fail.
            foreach (var m in history)
                m.Contents = m.Contents.Where(c => c is not AI.TextReasoningContent).ToList();
            await Assert.ThrowsAsync<BadRequestException>(() => chat.GetResponseAsync(history, opts));
        }
        using var loop = new AI.ChatClientBuilder(chat).UseFunctionInvocation().Build();
        Assert.Contains("21", (await loop.GetResponseAsync("weather in Paris?", opts)).Text);
        var streamedText = new System.Text.StringBuilder();
        await foreach (var u in loop.GetStreamingResponseAsync("weather in Paris?", opts))
            streamedText.Append(u.Text);
        Assert.NotEqual(0, streamedText.Length);
    }

    // DeepSeek's thinking mode through Microsoft.Extensions.AI's own tool loop (UseFunctionInvocation),
    // answered and streamed: the answer's reasoning (TextReasoningContent's text) goes back as the
    // assistant turn's reasoning_content, without which the upstream, as DeepSeek, answers 400.
    [Fact]
    public async Task ChatClientToolLoopSendsDeepSeeksReasoningBack()
    {
        using var client = LiterLlmClient.Create(new JsonObject
        {
            ["max_retries"] = 0,
            ["providers"] = new JsonObject
            {
                ["deepseek"] = new JsonObject { ["base_url"] = _up.BaseUrl, ["api_key"] = "sk-deepseek-test-0123456789" },
            },
        });
        using var loop = new AI.ChatClientBuilder(new LiterLlmChatClient(client, "deepseek/deepseek-v4-flash"))
            .UseFunctionInvocation().Build();
        var called = 0;
        var opts = new AI.ChatOptions
        {
            Tools = [AI.AIFunctionFactory.Create((string city) => { called++; return $"{city}: sunny, 21 C"; }, "get_weather")],
        };
        const string want = "Hello from the local upstream. You said: weather in Paris?";

        var r = await loop.GetResponseAsync("weather in Paris?", opts);
        Assert.Equal(1, called);
        Assert.Equal(want, r.Text);
        var reasoning = r.Messages.SelectMany(m => m.Contents).OfType<AI.TextReasoningContent>().Select(x => x.Text).ToList();
        Assert.Contains("The user asks for a tool's answer: call it.", reasoning);
        Assert.Contains("The user said: weather in Paris?. Reply.", reasoning);

        var streamed = new System.Text.StringBuilder();
        var streamedReasoning = new System.Text.StringBuilder();
        await foreach (var u in loop.GetStreamingResponseAsync("weather in Paris?", opts))
        {
            streamed.Append(u.Text);
            foreach (var x in u.Contents.OfType<AI.TextReasoningContent>())
                streamedReasoning.Append(x.Text);
        }
        Assert.Equal(2, called);
        Assert.Equal(want, streamed.ToString());
        Assert.Contains("The user asks for a tool's answer: call it.", streamedReasoning.ToString());
        Assert.Contains("The user said: weather in Paris?. Reply.", streamedReasoning.ToString());

        // An empty reasoning ("reasoning_content": ""), which DeepSeek also wants back, answered and streamed.
        opts.AdditionalProperties = new() { ["extra_headers"] = new Dictionary<string, string> { ["x-upstream-reasoning"] = "empty" } };
        Assert.Equal(want, (await loop.GetResponseAsync("weather in Paris?", opts)).Text);
        streamed.Clear();
        await foreach (var u in loop.GetStreamingResponseAsync("weather in Paris?", opts))
            streamed.Append(u.Text);
        Assert.Equal(want, streamed.ToString());
        Assert.Equal(4, called);
    }

    static async Task<JsonObject> SentBody(AI.IChatClient chat, IEnumerable<AI.ChatMessage> messages, AI.ChatOptions options)
    {
        (options.AdditionalProperties ??= new())["extra_headers"] = new Dictionary<string, string> { ["x-upstream-echo"] = "1" };
        return (JsonObject)JsonNode.Parse((await chat.GetResponseAsync(messages, options)).Text)!;
    }

    [Fact]
    public async Task ChatClientSendsFilesAudioAndEveryOption()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var pdf = new AI.DataContent(new byte[] { 37, 80, 68, 70 }, "application/pdf") { Name = "a.pdf" };
        var wav = new AI.DataContent(new byte[] { 82, 73, 70, 70 }, "audio/wav");
        var body = await SentBody(chat, [new AI.ChatMessage(AI.ChatRole.User, [new AI.TextContent("summarize"), pdf, wav])],
            new AI.ChatOptions
            {
                Temperature = 0.2f,
                Reasoning = new AI.ReasoningOptions { Effort = AI.ReasoningEffort.High },
                RawRepresentationFactory = _ => new ChatRequest
                {
                    Seed = 7, User = "u1", Temperature = 0.9,
                    ExtensionData = new() { ["service_tier"] = JsonDocument.Parse("\"flex\"").RootElement },
                },
                AdditionalProperties = new()
                {
                    ["temperature"] = 0.5, ["top_logprobs"] = 2, ["logprobs"] = true, ["user"] = "u2",
                    ["service_tier"] = "auto",
                },
            });
        var parts = body["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("summarize", (string?)parts[0]!["text"]);
        Assert.Equal("data:application/pdf;base64,JVBERg==", (string?)parts[1]!["file"]!["file_data"]);
        Assert.Equal("a.pdf", (string?)parts[1]!["file"]!["filename"]);
        Assert.Equal("UklGRg==", (string?)parts[2]!["input_audio"]!["data"]);
        Assert.Equal("wav", (string?)parts[2]!["input_audio"]!["format"]);
        Assert.Equal("high", (string?)body["reasoning_effort"]);
        Assert.Equal(7, (int)body["seed"]!);
        Assert.Equal("u1", (string?)body["user"]); // what the factory's request sets wins too,
        Assert.Equal("flex", (string?)body["service_tier"]); // its extension data included
        Assert.Equal(0.2, (double)body["temperature"]!, 5); // the named option wins, once
        Assert.Equal(2, (int)body["top_logprobs"]!);
        var ogg = new AI.DataContent(new byte[] { 1 }, "audio/ogg");
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => chat.GetResponseAsync([new AI.ChatMessage(AI.ChatRole.User, [ogg])]));
        Assert.Contains("audio/ogg", ex.Message);
        Assert.Same(chat, chat.GetService(typeof(object)));
        Assert.Same(chat, chat.GetService(typeof(IDisposable)));
        Assert.NotNull(chat.GetService<LiterLlmClient>());
    }

    [Fact]
    public async Task ADefaultJsonElementIsRefusedNamingItsField()
    {
        // System.Text.Json cannot write default(JsonElement); the request names where it is instead of .NET's
        // "Operation is not valid due to the current state of the object", and nothing is sent.
        using var client = NewClient();
        var top = Req("x");
        top.ExtensionData = new() { ["service_tier"] = default };
        var e = Assert.Throws<InvalidArgumentException>(() => client.Chat(top));
        Assert.Contains("request field service_tier holds a JsonElement without a value", e.Message);
        var inCall = Req("x");
        inCall.Messages.Add(new ChatMessage
        {
            Role = "assistant",
            ToolCalls = [new ToolCall { Id = "c1", Function = new FunctionCall { Name = "f", Arguments = "{}", ExtensionData = new() { ["sig"] = default } } }],
        });
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.ChatAsync(inCall));
        Assert.Contains("request field messages[1].tool_calls[0].function.sig", e.Message);
        var tool = Req("x");
        tool.Tools = [new Tool { Function = new FunctionDefinition { Name = "f" }, ExtensionData = new() { ["x"] = default } }];
        e = Assert.Throws<InvalidArgumentException>(() => client.Preview(tool));
        Assert.Contains("request field tools[0].x", e.Message);
        // Wrapped in a JsonNode (JsonValue.Create), in a field typed JsonNode.
        var extra = Req("x");
        extra.ExtraBody = new() { ["top_k"] = new JsonObject { ["a"] = JsonValue.Create(default(JsonElement)) } };
        e = Assert.Throws<InvalidArgumentException>(() => client.Chat(extra));
        Assert.Contains("request field extra_body.top_k holds", e.Message);
        var content = Req("x");
        content.Messages[0].Content = new JsonArray(JsonValue.Create(default(JsonElement)));
        e = Assert.Throws<InvalidArgumentException>(() => client.Chat(content));
        Assert.Contains("request field messages[0].content holds", e.Message);
        // No messages at all: the walk still finds it (and the library then says what is missing).
        var noMessages = Req("x");
        noMessages.Messages = null!;
        noMessages.Tools = [new Tool { Function = new FunctionDefinition { Name = "f" }, ExtensionData = new() { ["x"] = default } }];
        e = Assert.Throws<InvalidArgumentException>(() => client.Chat(noMessages));
        Assert.Contains("request field tools[0].x", e.Message);
        Assert.Equal("Hello from the local upstream. You said: x", client.Chat(Req("x")).Text); // the thread's buffer is fine
    }

    [Fact]
    public void TextWithANulCharacterIsRefusedNamingIt()
    {
        using var client = NewClient();
        var e = Assert.Throws<InvalidArgumentException>(() => client.ChatJson("{\"model\":\"openai/m\",\"messages\":[]}\0junk"));
        Assert.Contains("request holds a NUL character (at index", e.Message);
        e = Assert.Throws<InvalidArgumentException>(() => LiterLlmClient.Create("{}\0{"));
        Assert.Contains("config holds a NUL", e.Message);
        e = Assert.Throws<InvalidArgumentException>(() => client.CallJson("models\0x", "{}"));
        Assert.Contains("endpoint holds a NUL", e.Message);
        // A NUL inside a JSON string is escaped by the serializer: that is fine.
        Assert.Contains("a\0b", client.Chat(Req("a\0b")).Text);
    }

    [Fact]
    public async Task AStreamCancelledThroughWithCancellationCarriesThatToken()
    {
        using var client = NewClient();
        using var own = new CancellationTokenSource();
        using var other = new CancellationTokenSource();
        var n = 0;
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in client.StartStream(Req("x", Endless), own.Token).WithCancellation(other.Token))
                if (++n == 2)
                    other.Cancel();
        });
        Assert.Equal(other.Token, ex.CancellationToken);
    }

    [Fact]
    public void ToolCallsAndStatsKeepFieldsTheModelsDoNotName()
    {
        var r = JsonSerializer.Deserialize("""
            {"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function",
             "function":{"name":"f","arguments":"{}","x_fn":1},"extra_content":{"google":{"thought_signature":"sig"}}}],
             "thinking_blocks":[{"type":"thinking","thinking":"t","signature":"s"}],"reasoning_content":"t"}}],
             "stats":{"attempts":2}}
            """, LiterLlmJson.Default.ChatResponse)!;
        var back = JsonSerializer.SerializeToNode(new ChatRequest { Messages = { r.Choices[0].Message!.ToMessage() } }, LiterLlmJson.Default.ChatRequest)!;
        var m = back["messages"]![0]!;
        Assert.Equal("sig", (string?)m["tool_calls"]![0]!["extra_content"]!["google"]!["thought_signature"]);
        Assert.Equal(1, (int)m["tool_calls"]![0]!["function"]!["x_fn"]!);
        Assert.Equal("s", (string?)m["thinking_blocks"]![0]!["signature"]);
        Assert.Equal("t", (string?)m["reasoning_content"]); // DeepSeek's thinking mode wants it back
        Assert.Equal(2, r.Stats!.ExtensionData!["attempts"].GetInt32());
        var tool = JsonSerializer.Deserialize("""{"type":"function","function":{"name":"f","x":1},"cache_control":{"type":"ephemeral"}}""",
            LiterLlmJson.Default.ChatRequest.Options.GetTypeInfo(typeof(Tool)))!;
        Assert.Contains("cache_control", JsonSerializer.Serialize(tool, LiterLlmJson.Default.ChatRequest.Options.GetTypeInfo(typeof(Tool))));
    }

    [Fact]
    public async Task ChatClientStreamsTheFirstChoiceOfSeveral()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var opts = new AI.ChatOptions { AdditionalProperties = new() { ["n"] = 2 } };
        var answered = await chat.GetResponseAsync("two choices please", opts);
        Assert.Equal(2, answered.Messages.Count);
        var updates = new List<AI.ChatResponseUpdate>();
        await foreach (var u in chat.GetStreamingResponseAsync("two choices please", opts))
            updates.Add(u);
        Assert.Equal(answered.Messages[0].Text, updates.ToChatResponse().Text);
    }

    [Fact]
    public async Task ChatClientErrorsAreTyped()
    {
        using AI.IChatClient chat = new LiterLlmChatClient(NewClient(), "openai/gpt-4o-mini", ownsClient: true);
        var opts = new AI.ChatOptions { AdditionalProperties = new() { ["extra_headers"] = new Dictionary<string, string> { ["x-upstream-status"] = "429" } } };
        var ex = await Assert.ThrowsAsync<RateLimitedException>(() => chat.GetResponseAsync("x", opts));
        Assert.Equal(429, ex.HttpStatus);
    }
}
