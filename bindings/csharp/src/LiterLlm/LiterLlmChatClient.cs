using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using AI = Microsoft.Extensions.AI;

namespace LiterLlm;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="AI.IChatClient"/> over a <see cref="LiterLlmClient"/>:
/// every provider of the library behind the abstraction .NET programs plug LLMs into.
/// </summary>
public sealed class LiterLlmChatClient : AI.IChatClient
{
    readonly LiterLlmClient _client;
    readonly bool _ownsClient;
    readonly string? _defaultModel;
    readonly AI.ChatClientMetadata _metadata;

    /// <param name="client">The client the calls go through.</param>
    /// <param name="defaultModel">"provider/model" used when ChatOptions.ModelId is not set.</param>
    /// <param name="ownsClient">Dispose disposes the client too.</param>
    public LiterLlmChatClient(LiterLlmClient client, string? defaultModel = null, bool ownsClient = false)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _defaultModel = defaultModel;
        _ownsClient = ownsClient;
        _metadata = new AI.ChatClientMetadata("literllm", null, defaultModel);
    }

    /// <inheritdoc/>
    public async Task<AI.ChatResponse> GetResponseAsync(IEnumerable<AI.ChatMessage> messages,
        AI.ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var r = await _client.ChatAsync(ToRequest(messages, options), cancellationToken).ConfigureAwait(false);
        var result = new AI.ChatResponse(r.Choices.Select(c => ToMessage(c.Message)).ToList())
        {
            ResponseId = r.Id,
            ModelId = r.Model,
            CreatedAt = r.Created > 0 ? DateTimeOffset.FromUnixTimeSeconds(r.Created) : null,
            FinishReason = ToFinishReason(r.FinishReason),
            Usage = ToUsage(r.Usage),
            RawRepresentation = r,
        };
        return result;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<AI.ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AI.ChatMessage> messages,
        AI.ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = _client.StartStream(ToRequest(messages, options), cancellationToken);
        string? id = null, model = null;
        DateTimeOffset? created = null;
        await foreach (var chunk in stream.ConfigureAwait(false))
        {
            id ??= chunk.Id;
            model ??= chunk.Model;
            created ??= chunk.Created > 0 ? DateTimeOffset.FromUnixTimeSeconds(chunk.Created) : null;
            // The first choice (n > 1 through AdditionalProperties: the others are not updates of
            // this response; GetResponseAsync gives every choice as a message).
            ChunkChoice? choice = null;
            foreach (var c in chunk.Choices)
                if (c.Index == 0)
                    choice = c;
            var update = new AI.ChatResponseUpdate
            {
                ResponseId = chunk.Id,
                MessageId = chunk.Id,
                ModelId = chunk.Model,
                CreatedAt = created,
                Role = choice?.Delta?.Role is { } role ? new AI.ChatRole(role) : null,
                FinishReason = ToFinishReason(choice?.FinishReason),
                RawRepresentation = chunk,
            };
            // An empty reasoning too: DeepSeek wants "" back as it came (see AddMessage).
            if (choice?.Delta?.ReasoningContent != null)
                update.Contents.Add(new AI.TextReasoningContent(choice.Delta.ReasoningContent));
            if (ThinkingBlocks(choice?.Delta?.ExtensionData) is { } blocks)
                update.Contents.Add(new AI.TextReasoningContent("") { ProtectedData = blocks });
            if (!string.IsNullOrEmpty(choice?.Delta?.Content))
                update.Contents.Add(new AI.TextContent(choice!.Delta!.Content));
            if (chunk.Usage != null)
                update.Contents.Add(new AI.UsageContent(ToUsage(chunk.Usage)!));
            // Tool calls arrive in pieces; they are given whole from the assembled response below.
            if (update.Contents.Count > 0 || update.Role != null || update.FinishReason != null)
                yield return update;
        }
        var calls = stream.Response?.ToolCalls;
        if (calls is { Count: > 0 })
        {
            var update = new AI.ChatResponseUpdate(AI.ChatRole.Assistant, calls.Select(ToFunctionCall).ToList<AI.AIContent>())
            {
                ResponseId = id,
                MessageId = id,
                ModelId = model,
                CreatedAt = created,
            };
            yield return update;
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null)
            return null;
        if (serviceType == typeof(AI.ChatClientMetadata))
            return _metadata;
        if (serviceType.IsInstanceOfType(this))
            return this;
        if (serviceType.IsInstanceOfType(_client))
            return _client;
        return null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsClient)
            _client.Dispose();
    }

    // -------------------------------------------------------------- mapping

    ChatRequest ToRequest(IEnumerable<AI.ChatMessage> messages, AI.ChatOptions? o)
    {
        // ChatOptions.RawRepresentationFactory may give a ChatRequest to start from: the options set
        // override its fields, its messages come first.
        var req = o?.RawRepresentationFactory?.Invoke(this) as ChatRequest ?? new ChatRequest();
        var model = o?.ModelId ?? (string.IsNullOrEmpty(req.Model) ? null : req.Model) ?? _defaultModel
            ?? throw new ArgumentException("no model: set ChatOptions.ModelId or the client's default model");
        req.Model = model;
        if (!string.IsNullOrEmpty(o?.Instructions))
            req.Messages.Add(ChatMessage.System(o!.Instructions!));
        foreach (var m in messages)
            AddMessage(req.Messages, m);
        if (o == null)
            return req;
        // The options set override the request's (a RawRepresentationFactory's) fields.
        req.Temperature = o.Temperature ?? req.Temperature;
        req.TopP = o.TopP ?? req.TopP;
        req.MaxTokens = o.MaxOutputTokens ?? req.MaxTokens;
        req.Seed = o.Seed ?? req.Seed;
        req.FrequencyPenalty = o.FrequencyPenalty ?? req.FrequencyPenalty;
        req.PresencePenalty = o.PresencePenalty ?? req.PresencePenalty;
        if (o.Reasoning?.Effort is { } effort)
            req.ReasoningEffort = effort switch
            {
                AI.ReasoningEffort.None => "none",
                AI.ReasoningEffort.Low => "low",
                AI.ReasoningEffort.Medium => "medium",
                AI.ReasoningEffort.High => "high",
                AI.ReasoningEffort.ExtraHigh => "xhigh",
                _ => throw new NotSupportedException($"ChatOptions.Reasoning.Effort {effort}"),
            };
        if (o.StopSequences is { Count: > 0 } stop)
            req.Stop = new JsonArray(stop.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        if (o.TopK is int k)
            (req.ExtraBody ??= new())["top_k"] = k;
        switch (o.ResponseFormat)
        {
            case AI.ChatResponseFormatJson { Schema: { } schema } json:
                var js = new JsonObject
                {
                    ["name"] = json.SchemaName ?? "response",
                    ["schema"] = JsonNode.Parse(schema.GetRawText()),
                };
                if (json.SchemaDescription != null)
                    js["description"] = json.SchemaDescription;
                req.ResponseFormat = new JsonObject { ["type"] = "json_schema", ["json_schema"] = js };
                break;
            case AI.ChatResponseFormatJson:
                req.ResponseFormat = new JsonObject { ["type"] = "json_object" };
                break;
            case AI.ChatResponseFormatText:
                req.ResponseFormat = new JsonObject { ["type"] = "text" };
                break;
        }
        if (o.Tools is { Count: > 0 } tools)
        {
            req.Tools = new();
            foreach (var t in tools.OfType<AI.AIFunctionDeclaration>())
                req.Tools.Add(new Tool
                {
                    Function = new FunctionDefinition
                    {
                        Name = t.Name,
                        Description = string.IsNullOrEmpty(t.Description) ? null : t.Description,
                        Parameters = JsonNode.Parse(t.JsonSchema.GetRawText()),
                    },
                });
            req.ParallelToolCalls = o.AllowMultipleToolCalls;
        }
        req.ToolChoice = o.ToolMode switch
        {
            AI.NoneChatToolMode => "none",
            AI.AutoChatToolMode => "auto",
            AI.RequiredChatToolMode { RequiredFunctionName: { } name } => new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name },
            },
            AI.RequiredChatToolMode => "required",
            _ => null,
        };
        if (o.AdditionalProperties is { Count: > 0 } extra)
        {
            // Request fields the options do not name, sent as top-level fields. A field the request
            // already sets (from a named option) keeps that value: a field twice is refused.
            var named = SetFields(req);
            foreach (var kv in extra)
            {
                if (named.Contains(kv.Key))
                    continue;
                req.ExtensionData ??= new();
                req.ExtensionData[kv.Key] = ToElement(kv.Value);
            }
        }
        return req;
    }

    // The JSON names of the fields `req` would send: the model's properties that are not null (the
    // context writes no null), and its ExtensionData's keys. Read from the source-generated
    // metadata, without serializing the messages.
    static HashSet<string> SetFields(ChatRequest req)
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in LiterLlmJson.Default.ChatRequest.Properties)
        {
            if (!p.IsExtensionData && p.Get?.Invoke(req) is not null)
                named.Add(p.Name);
        }
        if (req.ExtensionData != null)
            named.UnionWith(req.ExtensionData.Keys);
        return named;
    }

    static JsonElement ToElement(object? value) => value switch
    {
        JsonElement e => e,
        JsonNode n => JsonDocument.Parse(n.ToJsonString()).RootElement.Clone(),
        _ => JsonSerializer.SerializeToElement(value, AI.AIJsonUtilities.DefaultOptions.GetTypeInfo(value?.GetType() ?? typeof(object))),
    };

    static void AddMessage(List<ChatMessage> into, AI.ChatMessage m)
    {
        var role = m.Role.Value;
        // Tool results become one "tool" message each.
        foreach (var result in m.Contents.OfType<AI.FunctionResultContent>())
            into.Add(ChatMessage.ToolResult(result.CallId, ResultText(result.Result)));
        var parts = new JsonArray();
        var calls = new List<ToolCall>();
        var thinking = new JsonArray();
        System.Text.StringBuilder? reasoning = null; // null: no TextReasoningContent; "" is sent as ""
        foreach (var c in m.Contents)
        {
            switch (c)
            {
                case AI.TextContent t:
                    parts.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = t.Text });
                    break;
                case AI.DataContent d when d.HasTopLevelMediaType("image"):
                    parts.Add((JsonNode)new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = d.Uri } });
                    break;
                case AI.DataContent d when d.HasTopLevelMediaType("audio"):
                    parts.Add((JsonNode)new JsonObject
                    {
                        ["type"] = "input_audio",
                        ["input_audio"] = new JsonObject { ["data"] = d.Base64Data.ToString(), ["format"] = AudioFormat(d.MediaType) },
                    });
                    break;
                case AI.DataContent d: // a PDF, a text file, ...: a file part with a data: URL
                    parts.Add((JsonNode)new JsonObject
                    {
                        ["type"] = "file",
                        ["file"] = new JsonObject { ["file_data"] = d.Uri, ["filename"] = d.Name ?? "file" },
                    });
                    break;
                case AI.UriContent u when u.HasTopLevelMediaType("image"):
                    parts.Add((JsonNode)new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = u.Uri.ToString() } });
                    break;
                case AI.UriContent u: // a document by URL (the providers that take documents)
                    parts.Add((JsonNode)new JsonObject
                    {
                        ["type"] = "document",
                        ["document"] = new JsonObject { ["url"] = u.Uri.ToString(), ["media_type"] = u.MediaType },
                    });
                    break;
                case AI.TextReasoningContent r:
                    // The provider's reasoning to send back (see ToMessage): its text as reasoning_content
                    // (DeepSeek's thinking mode refuses a tool loop whose assistant turns lack it; the library
                    // drops it for the hosts that refuse the field: groq, mistral, cerebras), and thinking_blocks.
                    reasoning ??= new System.Text.StringBuilder();
                    reasoning.Append(r.Text);
                    if (r.ProtectedData != null && ParseOrNull(r.ProtectedData) is JsonArray blocks)
                        foreach (var b in blocks.ToList())
                        {
                            blocks.Remove(b);
                            thinking.Add(b);
                        }
                    break;
                case AI.FunctionCallContent f:
                    calls.Add(new ToolCall
                    {
                        Id = f.CallId,
                        Function = new FunctionCall
                        {
                            Name = f.Name,
                            Arguments = f.Arguments == null ? "{}" : JsonSerializer.Serialize(f.Arguments, AI.AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))),
                        },
                        // A provider's own data on the call (Gemini's thought signature), as it came.
                        ExtensionData = (f.RawRepresentation as ToolCall)?.ExtensionData,
                    });
                    break;
            }
        }
        var reasoningText = role == "assistant" ? reasoning?.ToString() : null;
        if (parts.Count == 0 && calls.Count == 0 && thinking.Count == 0)
            return;
        var msg = new ChatMessage { Role = role, Name = m.AuthorName, ReasoningContent = reasoningText };
        if (thinking.Count > 0)
            msg.ExtensionData = new() { ["thinking_blocks"] = ToElement(thinking) };
        // A message of text parts only is sent as one string: every provider takes that.
        if (parts.All(p => (string?)p!["type"] == "text"))
            msg.Content = parts.Count == 0 ? null : string.Concat(parts.Select(p => (string?)p!["text"]));
        else
            msg.Content = parts;
        if (calls.Count > 0)
            msg.ToolCalls = calls;
        into.Add(msg);
    }

    static string AudioFormat(string mediaType) => mediaType.ToLowerInvariant() switch
    {
        "audio/wav" or "audio/x-wav" or "audio/wave" or "audio/vnd.wave" => "wav",
        "audio/mpeg" or "audio/mp3" or "audio/mpeg3" or "audio/x-mpeg-3" => "mp3",
        _ => throw new NotSupportedException($"audio content of media type {mediaType}: only wav and mp3 audio can be sent (input_audio)"),
    };

    static JsonNode? ParseOrNull(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null; // another client's protected data: nothing of ours
        }
    }

    // A message's thinking_blocks as text (TextReasoningContent.ProtectedData), or null.
    static string? ThinkingBlocks(Dictionary<string, JsonElement>? extension) =>
        extension != null && extension.TryGetValue("thinking_blocks", out var tb) && tb.ValueKind == JsonValueKind.Array
            ? tb.GetRawText() : null;

    static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement e => e.GetRawText(),
        JsonNode n => n.ToJsonString(),
        _ => JsonSerializer.Serialize(result, AI.AIJsonUtilities.DefaultOptions.GetTypeInfo(result.GetType())),
    };

    static AI.ChatMessage ToMessage(ResponseMessage? m)
    {
        var msg = new AI.ChatMessage(new AI.ChatRole(m?.Role ?? "assistant"), new List<AI.AIContent>()) { RawRepresentation = m };
        // The reasoning as text (AddMessage sends it back as reasoning_content), and as the provider wants
        // it back (Anthropic's signed thinking, Gemini's thought signatures) in ProtectedData, which
        // AddMessage turns into thinking_blocks.
        var blocks = ThinkingBlocks(m?.ExtensionData);
        if (m?.ReasoningContent != null || blocks != null)
            msg.Contents.Add(new AI.TextReasoningContent(m?.ReasoningContent ?? "") { ProtectedData = blocks });
        if (m?.Content != null)
            msg.Contents.Add(new AI.TextContent(m.Content));
        if (!string.IsNullOrEmpty(m?.Refusal))
            msg.Contents.Add(new AI.TextContent(m!.Refusal) { AdditionalProperties = new() { ["refusal"] = true } });
        if (m?.ToolCalls != null)
            foreach (var call in m.ToolCalls)
                msg.Contents.Add(ToFunctionCall(call));
        return msg;
    }

    static AI.FunctionCallContent ToFunctionCall(ToolCall call)
    {
        IDictionary<string, object?>? args = null;
        Exception? error = null;
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrEmpty(call.Function.Arguments) ? "{}" : call.Function.Arguments);
            args = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            error = ex; // the arguments are not a JSON object
        }
        return new AI.FunctionCallContent(call.Id ?? "", call.Function.Name ?? "", args) { Exception = error, RawRepresentation = call };
    }

    static AI.ChatFinishReason? ToFinishReason(string? reason) => reason switch
    {
        null => null,
        "stop" => AI.ChatFinishReason.Stop,
        "length" => AI.ChatFinishReason.Length,
        "tool_calls" => AI.ChatFinishReason.ToolCalls,
        "content_filter" => AI.ChatFinishReason.ContentFilter,
        _ => new AI.ChatFinishReason(reason),
    };

    static AI.UsageDetails? ToUsage(Usage? u) => u == null ? null : new AI.UsageDetails
    {
        InputTokenCount = u.PromptTokens,
        OutputTokenCount = u.CompletionTokens,
        TotalTokenCount = u.TotalTokens,
        CachedInputTokenCount = u.PromptTokensDetails?.CachedTokens,
        ReasoningTokenCount = u.CompletionTokensDetails?.ReasoningTokens,
    };
}
