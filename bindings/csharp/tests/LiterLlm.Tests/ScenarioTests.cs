using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace LiterLlm.Tests;

/// <summary>What one run of a scenario gave, in the terms of the scenario's "expect".</summary>
sealed class Outcome
{
    public string Status = "LLM_OK";
    public ChatResponse? Response;
    public string? StreamedText;
    public int Chunks;
    public LiterLlmException? Error;
    public long ElapsedMs;
    public JsonObject? Preview;
    public string? PreviewText;
    public CallResponse? Call;
    public HashSet<string> Known = []; // expect keys the kind itself checked
}

[Collection("upstream")]
public sealed class ScenarioTests
{
    readonly Upstream _up;
    readonly ITestOutputHelper _out;

    public ScenarioTests(Upstream up, ITestOutputHelper output)
    {
        _up = up;
        _out = output;
    }

    public static IEnumerable<object[]> Names() => Scenarios.Names();

    string Fill(string text) => text.Replace("{base_url}", _up.BaseUrl);

    JsonNode Fill(JsonNode node) => JsonNode.Parse(Fill(node.ToJsonString()))!;

    string ClientConfig(JsonObject scenario)
    {
        var cfg = (JsonObject)Fill(Scenarios.Document["client_config"]!);
        if (scenario["config"] is JsonObject extra)
            foreach (var kv in extra)
                cfg[kv.Key] = kv.Value == null ? null : Fill(kv.Value);
        return cfg.ToJsonString();
    }

    static ChatRequest Typed(string json) =>
        JsonSerializer.Deserialize(json, LiterLlmJson.Default.ChatRequest)!;

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Scenario(string name)
    {
        var s = Scenarios.Get(name);
        var kind = (string)s["kind"]!;
        var expect = (JsonObject)Fill(s["expect"]!);
        switch (kind)
        {
            case "chat":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var req = Fill(s["request"]!).ToJsonString();
                Check("sync", expect, Run(() => new Outcome { Response = JsonSerializer.Deserialize(client.ChatJson(req), LiterLlmJson.Default.ChatResponse) }));
                Check("async", expect, await RunAsync(async () => new Outcome { Response = await client.ChatAsync(Typed(req)) }));
                break;
            }
            case "stream":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var req = Fill(s["request"]!).ToJsonString();
                Check("sync", expect, Run(() => SyncStream(client, req)));
                Check("async", expect, await RunAsync(() => AsyncStream(client, req)));
                break;
            }
            case "tool_loop":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var req = Fill(s["request"]!).ToJsonString();
                Check("sync", expect, await ToolLoop(s, req, r => Task.FromResult(client.Chat(r)), "sync"));
                Check("async", expect, await ToolLoop(s, req, r => client.ChatAsync(r), "async"));
                break;
            }
            case "cancel_stream":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var req = Fill(s["request"]!).ToJsonString();
                Check("sync", expect, Run(() => SyncCancel(client, req)));
                Check("async", expect, await RunAsync(() => AsyncCancel(client, req)));
                break;
            }
            case "concurrent":
                await Concurrent(s, expect);
                break;
            case "preview":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var req = Fill(s["request"]!).ToJsonString();
                Check("raw", expect, Run(() =>
                {
                    var text = client.PreviewJson(req);
                    return new Outcome { PreviewText = text, Preview = (JsonObject)JsonNode.Parse(text)! };
                }));
                var typed = client.Preview(Typed(req));
                Assert.Equal((string?)expect["url"], typed.Url);
                break;
            }
            case "register":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                client.RegisterProviderJson(Fill(s["provider"]!).ToJsonString());
                var pname = (string)s["provider"]!["name"]!;
                Assert.Contains(client.Providers(), p => p.Name == pname && p.Registered);
                var req = Fill(s["request"]!).ToJsonString();
                Check("sync", expect, Run(() => new Outcome { Response = client.Chat(Typed(req)) }));
                Check("async", expect, await RunAsync(async () => new Outcome { Response = await client.ChatAsync(Typed(req)) }));
                client.UnregisterProvider(pname);
                Assert.DoesNotContain(client.Providers(), p => p.Name == pname);
                break;
            }
            case "config_file":
            {
                var path = Path.Combine(Path.GetTempPath(), $"literllm-cs-{Environment.ProcessId}-{Guid.NewGuid():N}.toml");
                File.WriteAllText(path, Fill((string)s["file"]!));
                try
                {
                    using var client = LiterLlmClient.FromFile(path);
                    var req = Fill(s["request"]!).ToJsonString();
                    Check("sync", expect, Run(() => new Outcome { Response = client.Chat(Typed(req)) }));
                    Check("async", expect, await RunAsync(async () => new Outcome { Response = await client.ChatAsync(Typed(req)) }));
                }
                finally
                {
                    File.Delete(path);
                }
                break;
            }
            case "call":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var endpoint = (string)s["endpoint"]!;
                var req = Fill(s["request"]!).ToJsonString();
                var uploads = Uploads(s);
                Check("sync", expect, Run(() => new Outcome { Call = client.CallJson(endpoint, req, uploads) }));
                Check("async", expect, await RunAsync(async () => new Outcome { Call = await client.CallAsync(endpoint, JsonNode.Parse(req), uploads) }));
                break;
            }
            case "call_stream":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                var endpoint = (string)s["endpoint"]!;
                var req = Fill(s["request"]!).ToJsonString();
                Check("async", expect, await RunAsync(() => CallStream(client, endpoint, req, Uploads(s), expect)));
                using var cts = new CancellationTokenSource();
                Check("async with a token", expect, await RunAsync(() => CallStream(client, endpoint, req, Uploads(s), expect, cts.Token)));
                break;
            }
            case "batch":
            {
                using var client = LiterLlmClient.Create(ClientConfig(s));
                Check("async", expect, await RunAsync(() => Batch(client, s, expect)));
                break;
            }
            default:
                Assert.Fail($"scenario kind '{kind}' is not known to the C# runner");
                break;
        }
    }

    static Outcome Run(Func<Outcome> f)
    {
        var sw = Stopwatch.StartNew();
        Outcome o;
        try { o = f(); }
        catch (LiterLlmException ex) { o = new Outcome { Error = ex, Status = LlmStatusNames.CName(ex.Status) }; }
        o.ElapsedMs = sw.ElapsedMilliseconds;
        return o;
    }

    static async Task<Outcome> RunAsync(Func<Task<Outcome>> f)
    {
        var sw = Stopwatch.StartNew();
        Outcome o;
        try { o = await f(); }
        catch (LiterLlmException ex) { o = new Outcome { Error = ex, Status = LlmStatusNames.CName(ex.Status) }; }
        o.ElapsedMs = sw.ElapsedMilliseconds;
        return o;
    }

    static IReadOnlyList<ReadOnlyMemory<byte>> Uploads(JsonObject s)
    {
        var list = new List<ReadOnlyMemory<byte>>();
        foreach (var u in s["uploads"]?.AsArray() ?? [])
            list.Add(u!["base64"] is JsonNode b ? Convert.FromBase64String((string)b!) : System.Text.Encoding.UTF8.GetBytes((string)u["text"]!));
        return list;
    }

    /// <summary>The text of a Responses API response: its "output_text" parts joined.</summary>
    static string ResponsesText(JsonNode? r)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var item in r?["output"]?.AsArray() ?? [])
            foreach (var part in item?["content"]?.AsArray() ?? [])
                if ((string?)part?["type"] == "output_text")
                    sb.Append((string?)part!["text"]);
        return sb.ToString();
    }

    /// <summary>
    /// Kind "tool_loop": chat, check first_expect, send the answer's message back as the typed models give
    /// it (ToMessage) with one tool message per call, chat again; the outcome of that second chat.
    /// </summary>
    async Task<Outcome> ToolLoop(JsonObject s, string req, Func<ChatRequest, Task<ChatResponse>> chat, string form)
    {
        var next = Typed(req);
        var first = await RunAsync(async () => new Outcome { Response = await chat(next) });
        Check(form + ", first answer", (JsonObject)Fill(s["first_expect"]!), first);
        var message = first.Response?.Choices.FirstOrDefault()?.Message;
        var calls = first.Response?.ToolCalls;
        Assert.True(message != null && calls is { Count: > 0 }, $"[{form}] the first answer has no message with tool calls");
        next.Messages.Add(message!.ToMessage());
        foreach (var call in calls!)
            next.Messages.Add(ChatMessage.ToolResult(call.Id!, (string)s["tool_result"]!));
        return await RunAsync(async () => new Outcome { Response = await chat(next) });
    }

    /// <summary>Kind "call_stream": events checked as they come, deltas joined, the final response compared.</summary>
    static async Task<Outcome> CallStream(LiterLlmClient client, string endpoint, string req, IReadOnlyList<ReadOnlyMemory<byte>> uploads,
        JsonObject expect, CancellationToken token = default)
    {
        var o = new Outcome { Known = ["text", "final_status", "event_types"] };
        var text = new System.Text.StringBuilder();
        var types = new HashSet<string>();
        long last = -1;
        var stream = client.CallStreamJsonAsync(endpoint, req, uploads, token);
        await foreach (var ev in stream)
        {
            o.Chunks++;
            Assert.True(ev.Type != null && ev.SequenceNumber != null, "an event without type or sequence_number: " + ev.Json);
            Assert.True(ev.SequenceNumber > last, $"sequence_number {ev.SequenceNumber} after {last}");
            last = ev.SequenceNumber!.Value;
            types.Add(ev.Type!);
            if (ev.Type == "response.output_text.delta")
                text.Append(ev.GetString("delta"));
        }
        o.StreamedText = text.ToString();
        o.Call = stream.Response;
        Assert.True(o.Call != null, "no final response");
        var final = o.Call!.Parse();
        Assert.Equal(o.StreamedText, ResponsesText(final));
        if (expect["text"] is JsonNode t)
            Assert.Equal((string?)t, o.StreamedText);
        if (expect["final_status"] is JsonNode fs)
            Assert.Equal((string?)fs, (string?)final!["status"]);
        foreach (var ty in expect["event_types"]?.AsArray() ?? [])
            Assert.Contains((string)ty!, types);
        return o;
    }

    /// <summary>Kind "batch": files.create, batches.create, batches.retrieve until done, files.content.</summary>
    static async Task<Outcome> Batch(LiterLlmClient client, JsonObject s, JsonObject expect)
    {
        var o = new Outcome { Known = ["batch_status", "output_lines", "output_contains"] };
        var provider = (string?)s["provider"];
        var up = s["upload"]!;
        var file = await client.CreateFileAsync(System.Text.Encoding.UTF8.GetBytes((string)up["content"]!), (string)up["filename"]!,
            (string)up["purpose"]!, provider);
        var fields = s["batch"]!.DeepClone().AsObject();
        var endpoint = (string)fields["endpoint"]!;
        fields.Remove("endpoint");
        var batch = await client.CreateBatchAsync((string)file!["id"]!, endpoint, provider, fields);
        var id = (string)batch!["id"]!;
        for (var i = 0; i < (int)s["max_polls"]!; i++)
        {
            batch = await client.RetrieveBatchAsync(id, provider);
            if ((string?)batch!["status"] is "completed" or "failed" or "expired" or "cancelled")
                break;
        }
        Assert.Equal((string?)expect["batch_status"], (string?)batch!["status"]);
        var (content, _) = await client.FileContentAsync((string)batch["output_file_id"]!, provider);
        var output = System.Text.Encoding.UTF8.GetString(content);
        if (expect["output_lines"] is JsonNode n)
            Assert.Equal((int)n, output.Split('\n').Count(l => l.Trim().Length > 0));
        foreach (var w in expect["output_contains"]?.AsArray() ?? [])
            Assert.Contains((string)w!, output);
        return o;
    }

    /// <summary>The value at a path "a.0.b" (digits index arrays), or null.</summary>
    static JsonNode? AtPath(JsonNode? v, string path)
    {
        foreach (var seg in path.Split('.'))
            v = v is JsonArray a ? (int.TryParse(seg, out var i) && i >= 0 && i < a.Count ? a[i] : null) : v is JsonObject obj ? obj[seg] : null;
        return v;
    }

    static Outcome SyncStream(LiterLlmClient client, string req)
    {
        var o = new Outcome();
        var text = new System.Text.StringBuilder();
        using var stream = client.Stream(Typed(req));
        try
        {
            foreach (var chunk in stream)
            {
                o.Chunks++;
                text.Append(chunk.Text);
            }
        }
        catch (LiterLlmException ex)
        {
            o.Error = ex;
            o.Status = LlmStatusNames.CName(ex.Status);
            return o;
        }
        o.StreamedText = text.ToString();
        o.Response = stream.FinalResponse();
        return o;
    }

    static async Task<Outcome> AsyncStream(LiterLlmClient client, string req)
    {
        var o = new Outcome();
        var text = new System.Text.StringBuilder();
        var stream = client.StartStream(Typed(req));
        try
        {
            await foreach (var chunk in stream)
            {
                o.Chunks++;
                text.Append(chunk.Text);
            }
        }
        catch (LiterLlmException ex)
        {
            o.Error = ex;
            o.Status = LlmStatusNames.CName(ex.Status);
            return o;
        }
        o.StreamedText = text.ToString();
        o.Response = stream.Response;
        return o;
    }

    static Outcome SyncCancel(LiterLlmClient client, string req)
    {
        var o = new Outcome();
        using var stream = client.Stream(Typed(req));
        try
        {
            Assert.NotNull(stream.Next());
            o.Chunks++;
            var canceller = Task.Run(stream.Cancel); // another thread
            while (stream.Next() != null)
                o.Chunks++;
            canceller.Wait();
        }
        catch (CancelledException ex)
        {
            o.Error = ex;
            o.Status = LlmStatusNames.CName(ex.Status);
        }
        return o;
    }

    static async Task<Outcome> AsyncCancel(LiterLlmClient client, string req)
    {
        var o = new Outcome();
        using var cts = new CancellationTokenSource();
        try
        {
            await foreach (var chunk in client.StreamAsync(Typed(req), cts.Token))
            {
                if (o.Chunks++ == 0)
                    _ = Task.Run(cts.Cancel); // another task
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            o.Status = "LLM_ERR_CANCELLED";
        }
        return o;
    }

    async Task Concurrent(JsonObject s, JsonObject expect)
    {
        using var client = LiterLlmClient.Create(ClientConfig(s));
        int callers = (int)s["callers"]!, calls = (int)s["calls_each"]!;
        var template = Fill(s["request"]!).ToJsonString();
        var expectTemplate = expect.ToJsonString();
        string Sub(string t, int caller, int call) =>
            t.Replace("{caller}", caller.ToString()).Replace("{call}", call.ToString());

        // Threads on the blocking call.
        var threads = Enumerable.Range(0, callers).Select(caller => new Thread(() =>
        {
            for (var call = 0; call < calls; call++)
            {
                var e = (JsonObject)JsonNode.Parse(Sub(expectTemplate, caller, call))!;
                Check($"thread {caller} call {call}", e, Run(() => new Outcome { Response = client.Chat(Typed(Sub(template, caller, call))) }));
            }
        })).ToList();
        var failures = new List<Exception>();
        foreach (var t in threads)
            t.Start();
        foreach (var t in threads)
            t.Join();

        // Tasks on the async call.
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            for (var call = 0; call < calls; call++)
            {
                var e = (JsonObject)JsonNode.Parse(Sub(expectTemplate, caller, call))!;
                var req = Typed(Sub(template, caller, call));
                Check($"task {caller} call {call}", e, await RunAsync(async () => new Outcome { Response = await client.ChatAsync(req) }));
            }
        }));
    }

    static void Check(string form, JsonObject expect, Outcome o)
    {
        var where = $"[{form}] ";
        Assert.True(expect["status"] != null, "a scenario without expect.status");
        Assert.True((string)expect["status"]! == o.Status,
            where + $"status: expected {(string)expect["status"]!}, got {o.Status}: {o.Error?.Message}");
        if (o.Error != null)
            Assert.True(o.Error.GetType() != typeof(LiterLlmException), where + "the error has no kind type");
        var r = o.Response;
        foreach (var (key, value) in expect)
        {
            if (o.Known.Contains(key))
                continue;
            switch (key)
            {
                case "status":
                    break;
                case "text":
                    Assert.True(r != null, where + "no response");
                    Assert.Equal((string?)value, r!.Text);
                    if (o.StreamedText != null)
                        Assert.Equal((string?)value, o.StreamedText);
                    break;
                case "text_json":
                    Assert.True(r?.Text != null, where + "no text");
                    Assert.True(JsonNode.DeepEquals(value, JsonNode.Parse(r!.Text!)), where + $"text_json: got {r.Text}");
                    break;
                case "finish_reason":
                    Assert.Equal((string?)value, r?.FinishReason);
                    break;
                case "reasoning_content": // the answer's message's, "" when it has none
                    Assert.Equal((string?)value, r?.Choices.FirstOrDefault()?.Message?.ReasoningContent ?? "");
                    break;
                case "provider":
                    if (o.Preview != null)
                        Assert.Equal((string?)value, (string?)o.Preview["provider"]);
                    else
                        Assert.Equal((string?)value, o.Error != null ? o.Error.Provider : r?.Provider);
                    break;
                case "prompt_tokens":
                    Assert.Equal((long)value!, r?.Usage?.PromptTokens);
                    break;
                case "completion_tokens":
                    Assert.Equal((long)value!, r?.Usage?.CompletionTokens);
                    break;
                case "min_chunks":
                    Assert.True(o.Chunks >= (int)value!, where + $"chunks: {o.Chunks} < {(int)value!}");
                    break;
                case "tool_calls":
                {
                    var want = value!.AsArray();
                    var got = r?.ToolCalls;
                    Assert.True(got != null, where + "no tool calls");
                    Assert.Equal(want.Count, got!.Count);
                    for (var i = 0; i < want.Count; i++)
                    {
                        Assert.Equal((string?)want[i]!["id"], got[i].Id);
                        Assert.Equal((string?)want[i]!["type"], got[i].Type);
                        Assert.Equal((string?)want[i]!["function"]!["name"], got[i].Function.Name);
                        var args = want[i]!["function"]!["arguments"];
                        var gotArgs = JsonNode.Parse(got[i].Function.Arguments ?? "null");
                        Assert.True(JsonNode.DeepEquals(args is JsonValue v && v.TryGetValue<string>(out var str) ? JsonNode.Parse(str) : args, gotArgs),
                            where + $"arguments: got {got[i].Function.Arguments}");
                    }
                    break;
                }
                case "http_status":
                    Assert.Equal((int)value!, o.Error != null ? o.Error.HttpStatus : r?.Stats?.HttpStatus ?? 0);
                    break;
                case "message_contains":
                    Assert.Contains((string)value!, o.Error?.Message ?? "");
                    break;
                case "message_excludes":
                    Assert.DoesNotContain((string)value!, o.Error?.Message ?? "");
                    break;
                case "retry_after_ms":
                    Assert.Equal((long)value!, (long?)o.Error?.RetryAfter?.TotalMilliseconds);
                    break;
                case "code":
                    Assert.Equal((string?)value, o.Error?.Code);
                    break;
                case "type":
                    Assert.Equal((string?)value, o.Error?.Type);
                    break;
                case "within_ms":
                    Assert.True(o.ElapsedMs <= (long)value!, where + $"took {o.ElapsedMs} ms");
                    break;
                case "method":
                case "url":
                    Assert.Equal((string?)value, (string?)o.Preview?[key]);
                    break;
                case "header_authorization":
                {
                    var headers = o.Preview?["headers"]?.AsObject();
                    var auth = headers?.FirstOrDefault(h => h.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase)).Value;
                    Assert.Equal((string?)value, (string?)auth);
                    break;
                }
                case "excludes":
                    Assert.DoesNotContain((string)value!, o.PreviewText ?? "");
                    break;
                case "body_model":
                    Assert.Equal((string?)value, (string?)JsonNode.Parse((string)o.Preview!["body"]!)!["model"]);
                    break;
                case "object":
                    Assert.True(o.Call != null, where + "no call response");
                    Assert.Equal((string?)value, (string?)o.Call!.Parse()!["object"]);
                    break;
                case "ids_include":
                {
                    Assert.True(o.Call != null, where + "no call response");
                    var ids = ((JsonArray)o.Call!.Parse()!["data"]!).Select(m => (string?)m!["id"]).ToList();
                    foreach (var id in (JsonArray)value!)
                        Assert.Contains((string?)id, ids);
                    break;
                }
                case "vectors":
                    Assert.True(o.Call != null, where + "no call response");
                    Assert.Equal((int)value!, o.Call!.EmbeddingCount);
                    Assert.Equal((int)value!, o.Call.Embeddings().Count);
                    break;
                case "dimensions":
                    Assert.True(o.Call != null, where + "no call response");
                    Assert.Equal((int)value!, o.Call!.EmbeddingDimensions);
                    Assert.All(o.Call.Embeddings(), v => Assert.Equal((int)value!, v.Length));
                    break;
                case "content_type":
                    Assert.True(o.Call != null, where + "no call response");
                    Assert.Equal((string?)value, o.Call!.ContentType);
                    break;
                case "min_bytes":
                    Assert.True(o.Call?.Bytes != null, where + "no bytes");
                    Assert.True(o.Call!.Bytes!.Length >= (int)value!, where + $"{o.Call.Bytes.Length} bytes");
                    break;
                case "fields":
                    Assert.True(o.Call != null, where + "no call response");
                    foreach (var (path, want) in value!.AsObject())
                    {
                        var got = AtPath(o.Call!.Parse(), path);
                        Assert.True(JsonNode.DeepEquals(want, got), where + $"fields.{path}: got {got?.ToJsonString() ?? "nothing"}, want {want?.ToJsonString()}");
                    }
                    break;
                case "lengths":
                    Assert.True(o.Call != null, where + "no call response");
                    foreach (var (path, want) in value!.AsObject())
                        Assert.True(AtPath(o.Call!.Parse(), path) is JsonArray arr && arr.Count == (int)want!, where + $"lengths.{path}");
                    break;
                default:
                    Assert.Fail(where + $"expectation '{key}' is not known to the C# runner");
                    break;
            }
        }
    }
}
