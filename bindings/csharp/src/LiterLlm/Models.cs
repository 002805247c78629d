using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace LiterLlm;

// Typed models of the OpenAI chat-completions shapes. Fields the models do not
// name travel through ExtensionData (and LiterLlmClient has raw-JSON calls).

/// <summary>A chat-completions request. "model" is "provider/model" or a bare model name.</summary>
public sealed class ChatRequest
{
    public string Model { get; set; } = "";
    public List<ChatMessage> Messages { get; set; } = new();
    public List<Tool>? Tools { get; set; }
    /// <summary>"none", "auto", "required" or {"type":"function","function":{"name":...}}.</summary>
    public JsonNode? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    /// <summary>{"type":"json_object"} or {"type":"json_schema","json_schema":{...}}.</summary>
    public JsonNode? ResponseFormat { get; set; }
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? N { get; set; }
    /// <summary>A string or an array of strings.</summary>
    public JsonNode? Stop { get; set; }
    public int? MaxTokens { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public double? PresencePenalty { get; set; }
    public double? FrequencyPenalty { get; set; }
    public Dictionary<string, int>? LogitBias { get; set; }
    public bool? Logprobs { get; set; }
    public int? TopLogprobs { get; set; }
    public long? Seed { get; set; }
    public string? User { get; set; }
    public string? ReasoningEffort { get; set; }
    public Dictionary<string, string>? Metadata { get; set; }
    /// <summary>literllm: fields added to the provider's request body.</summary>
    public Dictionary<string, JsonNode?>? ExtraBody { get; set; }
    /// <summary>literllm: extra HTTP headers for this request.</summary>
    public Dictionary<string, string>? ExtraHeaders { get; set; }
    /// <summary>literllm: this request's whole timeout in seconds.</summary>
    public double? TimeoutSecs { get; set; }
    /// <summary>Any other request field, sent as it is.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A message of a request.</summary>
public sealed class ChatMessage
{
    public string Role { get; set; } = "user";
    /// <summary>A string, or an array of content parts ({"type":"text",...}, {"type":"image_url",...}).</summary>
    public JsonNode? Content { get; set; }
    public string? Name { get; set; }
    public List<ToolCall>? ToolCalls { get; set; }
    public string? ToolCallId { get; set; }
    /// <summary>
    /// An assistant turn's reasoning as text, sent back (DeepSeek's thinking mode refuses a tool loop whose
    /// assistant turns with tool calls lack it). The library leaves it out for the hosts that refuse the
    /// field (groq, mistral, cerebras).
    /// </summary>
    public string? ReasoningContent { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }

    public static ChatMessage System(string text) => new() { Role = "system", Content = text };
    public static ChatMessage User(string text) => new() { Role = "user", Content = text };
    public static ChatMessage Assistant(string text) => new() { Role = "assistant", Content = text };
    public static ChatMessage ToolResult(string toolCallId, string text) => new() { Role = "tool", ToolCallId = toolCallId, Content = text };
}

public sealed class Tool
{
    public string Type { get; set; } = "function";
    public FunctionDefinition Function { get; set; } = new();
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class FunctionDefinition
{
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>A JSON schema.</summary>
    public JsonNode? Parameters { get; set; }
    public bool? Strict { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>
/// A tool call. ExtensionData keeps a provider's own data on the call, sent back with it (Gemini's
/// OpenAI-compatible API puts its thought signature in extra_content.google.thought_signature).
/// </summary>
public sealed class ToolCall
{
    public string? Id { get; set; }
    public string Type { get; set; } = "function";
    public FunctionCall Function { get; set; } = new();
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class FunctionCall
{
    public string? Name { get; set; }
    /// <summary>The arguments as JSON text.</summary>
    public string? Arguments { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A chat.completion object, plus literllm's "provider" and "stats".</summary>
public sealed class ChatResponse
{
    public string? Id { get; set; }
    public string? Object { get; set; }
    public long Created { get; set; }
    public string? Model { get; set; }
    public List<Choice> Choices { get; set; } = new();
    public Usage? Usage { get; set; }
    public string? SystemFingerprint { get; set; }
    public string? ServiceTier { get; set; }
    public string? Provider { get; set; }
    public CallStats? Stats { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>The first choice's content, or null.</summary>
    [JsonIgnore] public string? Text => Choices.Count > 0 ? Choices[0].Message?.Content : null;
    /// <summary>The first choice's finish reason, or null.</summary>
    [JsonIgnore] public string? FinishReason => Choices.Count > 0 ? Choices[0].FinishReason : null;
    /// <summary>The first choice's tool calls, or null.</summary>
    [JsonIgnore] public List<ToolCall>? ToolCalls => Choices.Count > 0 ? Choices[0].Message?.ToolCalls : null;
}

public sealed class Choice
{
    public int Index { get; set; }
    public ResponseMessage? Message { get; set; }
    public string? FinishReason { get; set; }
    public JsonNode? Logprobs { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ResponseMessage
{
    public string? Role { get; set; }
    public string? Content { get; set; }
    public string? Refusal { get; set; }
    public string? ReasoningContent { get; set; }
    public List<ToolCall>? ToolCalls { get; set; }
    /// <summary>Fields not named above; "thinking_blocks" (the reasoning Anthropic, Gemini and Bedrock want back) among them.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>
    /// The message to send back in the conversation's next request (a tool loop): role, content, tool
    /// calls, ReasoningContent (DeepSeek's thinking mode refuses a tool loop whose assistant turns lack
    /// it; the library drops it for the hosts that refuse the field: groq, mistral, cerebras) and
    /// ExtensionData (thinking_blocks: providers that reason refuse tool results without them).
    /// </summary>
    public ChatMessage ToMessage() => new()
    {
        Role = Role ?? "assistant",
        Content = Content,
        ToolCalls = ToolCalls,
        ReasoningContent = ReasoningContent,
        ExtensionData = ExtensionData == null ? null : new(ExtensionData),
    };
}

public sealed class Usage
{
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public long TotalTokens { get; set; }
    public PromptTokensDetails? PromptTokensDetails { get; set; }
    public CompletionTokensDetails? CompletionTokensDetails { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class PromptTokensDetails
{
    public long CachedTokens { get; set; }
    public long? AudioTokens { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>usage.completion_tokens_details (OpenAI sends it with every answer).</summary>
public sealed class CompletionTokensDetails
{
    public long? ReasoningTokens { get; set; }
    public long? AudioTokens { get; set; }
    public long? AcceptedPredictionTokens { get; set; }
    public long? RejectedPredictionTokens { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>literllm's per-call figures.</summary>
public sealed class CallStats
{
    public long BytesSent { get; set; }
    public long BytesReceived { get; set; }
    public double LatencyMs { get; set; }
    public int HttpStatus { get; set; }
    public int Retries { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A chat.completion.chunk object.</summary>
public sealed class ChatChunk
{
    public string? Id { get; set; }
    public string? Object { get; set; }
    public long Created { get; set; }
    public string? Model { get; set; }
    public List<ChunkChoice> Choices { get; set; } = new();
    public Usage? Usage { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>The first choice's content delta, or null.</summary>
    [JsonIgnore] public string? Text => Choices.Count > 0 ? Choices[0].Delta?.Content : null;
}

public sealed class ChunkChoice
{
    public int Index { get; set; }
    public ChunkDelta? Delta { get; set; }
    public string? FinishReason { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ChunkDelta
{
    public string? Role { get; set; }
    public string? Content { get; set; }
    public string? Refusal { get; set; }
    /// <summary>A piece of the model's reasoning as text.</summary>
    public string? ReasoningContent { get; set; }
    public List<ToolCallDelta>? ToolCalls { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ToolCallDelta
{
    public int Index { get; set; }
    public string? Id { get; set; }
    public string? Type { get; set; }
    public FunctionCall? Function { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>What a call would send (see LiterLlmClient.Preview).</summary>
public sealed class RequestPreview
{
    public string Provider { get; set; } = "";
    public string Method { get; set; } = "";
    public string Url { get; set; } = "";
    public Dictionary<string, string> Headers { get; set; } = new();
    /// <summary>The exact request body text.</summary>
    public string Body { get; set; } = "";
}

/// <summary>One entry of the provider table.</summary>
public sealed class ProviderInfo
{
    public string Name { get; set; } = "";
    public List<string> Aliases { get; set; } = new();
    public string? BaseUrl { get; set; }
    public JsonNode? Auth { get; set; }
    public string? ApiKeyEnv { get; set; }
    public List<string> Prefixes { get; set; } = new();
    public bool Registered { get; set; }
}

/// <summary>An OpenAI-compatible provider to register.</summary>
public sealed class ProviderRegistration
{
    public string Name { get; set; } = "";
    public string BaseUrl { get; set; } = "";
    public List<string> Prefixes { get; set; } = new();
    /// <summary>"bearer" (default), "none" or {"header": "x-api-key"}.</summary>
    public JsonNode? Auth { get; set; }
    public string? ApiKey { get; set; }
    public string? ApiKeyEnv { get; set; }
    public Dictionary<string, string>? Headers { get; set; }
}

/// <summary>The models' System.Text.Json metadata (source-generated, snake_case), for trimmed and AOT apps.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatRequest))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(ChatChunk))]
[JsonSerializable(typeof(RequestPreview))]
[JsonSerializable(typeof(List<ProviderInfo>))]
[JsonSerializable(typeof(ProviderRegistration))]
[JsonSerializable(typeof(JsonNode))]
public sealed partial class LiterLlmJson : JsonSerializerContext
{
}
