using System.Text.Json.Nodes;

namespace LiterLlm;

/// <summary>
/// Thin conveniences over <see cref="LiterLlmClient.CallAsync"/> for the other endpoint families:
/// the main fields as arguments, any others in <c>fields</c>, the answer as JSON.
/// <c>provider</c> is a provider's name ("openai"), null for the client's default; <c>model</c>
/// is "provider/model" as in chat, null for the provider's default.
/// </summary>
public sealed partial class LiterLlmClient
{
    static JsonObject Fields(JsonObject? fields, params (string Key, JsonNode? Value)[] members)
    {
        var req = fields?.DeepClone().AsObject() ?? new JsonObject();
        foreach (var (k, v) in members)
            if (v != null)
                req[k] = v;
        return req;
    }

    static JsonNode? Str(string? s) => s == null ? null : JsonValue.Create(s);

    async Task<JsonNode?> CallParsedAsync(string endpoint, JsonObject req, IReadOnlyList<ReadOnlyMemory<byte>>? uploads,
        CancellationToken ct) =>
        (await CallAsync(endpoint, req, uploads, ct).ConfigureAwait(false)).Parse();

    Task<JsonNode?> ByIdAsync(string endpoint, string? provider, string key, string id, CancellationToken ct) =>
        CallParsedAsync(endpoint, Fields(null, ("provider", Str(provider)), (key, Str(id))), null, ct);

    /// <summary>images.generations: images for <paramref name="prompt"/> ("n", "size", ... in fields).</summary>
    public Task<JsonNode?> GenerateImageAsync(string prompt, string? model = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default) =>
        CallParsedAsync("images.generations", Fields(fields, ("model", Str(model)), ("prompt", Str(prompt))), null, cancellationToken);

    /// <summary>moderations: one result per input (a string, a list of strings, or multimodal parts).</summary>
    public Task<JsonNode?> ModerateAsync(JsonNode input, string? model = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default) =>
        CallParsedAsync("moderations", Fields(fields, ("model", Str(model)), ("input", input.DeepClone())), null, cancellationToken);

    /// <summary>rerank: <paramref name="documents"/> ordered by relevance to <paramref name="query"/>, most relevant first.</summary>
    public Task<JsonNode?> RerankAsync(string query, IReadOnlyList<string> documents, string? model = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default)
    {
        var docs = new JsonArray();
        foreach (var d in documents)
            docs.Add((JsonNode?)JsonValue.Create(d));
        return CallParsedAsync("rerank", Fields(fields, ("model", Str(model)), ("query", Str(query)), ("documents", docs)), null,
            cancellationToken);
    }

    /// <summary>search: web results for <paramref name="query"/>.</summary>
    public Task<JsonNode?> SearchAsync(string query, string? provider = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default) =>
        CallParsedAsync("search", Fields(fields, ("provider", Str(provider)), ("query", Str(query))), null, cancellationToken);

    /// <summary>files.create from bytes named <paramref name="filename"/>, for <paramref name="purpose"/> ("batch", ...): the file object.</summary>
    public Task<JsonNode?> CreateFileAsync(ReadOnlyMemory<byte> data, string filename, string purpose, string? provider = null,
        JsonObject? fields = null, CancellationToken cancellationToken = default) =>
        CallParsedAsync("files.create", Fields(fields, ("provider", Str(provider)), ("purpose", Str(purpose)),
            ("file", new JsonObject { ["data"] = 0, ["filename"] = filename })), [data], cancellationToken);

    /// <summary>files.create from the file at <paramref name="path"/> (read as it is sent).</summary>
    public Task<JsonNode?> CreateFileFromPathAsync(string path, string purpose, string? provider = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default) =>
        CallParsedAsync("files.create", Fields(fields, ("provider", Str(provider)), ("purpose", Str(purpose)),
            ("file", new JsonObject { ["path"] = path })), null, cancellationToken);

    /// <summary>files.retrieve: the file object of <paramref name="id"/>.</summary>
    public Task<JsonNode?> RetrieveFileAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("files.retrieve", provider, "file_id", id, cancellationToken);

    /// <summary>files.list ("purpose", "limit", "after" in fields).</summary>
    public Task<JsonNode?> ListFilesAsync(string? provider = null, JsonObject? fields = null, CancellationToken cancellationToken = default) =>
        CallParsedAsync("files.list", Fields(fields, ("provider", Str(provider))), null, cancellationToken);

    /// <summary>files.delete.</summary>
    public Task<JsonNode?> DeleteFileAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("files.delete", provider, "file_id", id, cancellationToken);

    /// <summary>files.content: the file's bytes and their Content-Type.</summary>
    public async Task<(byte[] Content, string? ContentType)> FileContentAsync(string id, string? provider = null,
        CancellationToken cancellationToken = default)
    {
        var r = await CallAsync("files.content", Fields(null, ("provider", Str(provider)), ("file_id", Str(id))), null,
            cancellationToken).ConfigureAwait(false);
        return (r.Bytes ?? throw new SerializationException(
            new ErrorInfo { Status = LlmStatus.Serialization, Message = "files.content: the answer holds no bytes" }), r.ContentType);
    }

    /// <summary>
    /// batches.create: a batch of the requests in the uploaded JSONL file <paramref name="inputFileId"/>
    /// for <paramref name="endpoint"/> ("/v1/chat/completions", ...); "completion_window" is "24h"
    /// unless fields says otherwise.
    /// </summary>
    public Task<JsonNode?> CreateBatchAsync(string inputFileId, string endpoint, string? provider = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default)
    {
        var req = Fields(fields, ("provider", Str(provider)), ("input_file_id", Str(inputFileId)), ("endpoint", Str(endpoint)));
        if (!req.ContainsKey("completion_window"))
            req["completion_window"] = "24h";
        return CallParsedAsync("batches.create", req, null, cancellationToken);
    }

    /// <summary>batches.retrieve: the batch object ("status", "output_file_id", ...).</summary>
    public Task<JsonNode?> RetrieveBatchAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("batches.retrieve", provider, "batch_id", id, cancellationToken);

    /// <summary>batches.list ("limit", "after" in fields).</summary>
    public Task<JsonNode?> ListBatchesAsync(string? provider = null, JsonObject? fields = null, CancellationToken cancellationToken = default) =>
        CallParsedAsync("batches.list", Fields(fields, ("provider", Str(provider))), null, cancellationToken);

    /// <summary>batches.cancel.</summary>
    public Task<JsonNode?> CancelBatchAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("batches.cancel", provider, "batch_id", id, cancellationToken);

    /// <summary>responses.create (OpenAI's Responses API), answered whole.</summary>
    public Task<JsonNode?> CreateResponseAsync(JsonObject request, CancellationToken cancellationToken = default) =>
        CallParsedAsync("responses.create", request, null, cancellationToken);

    /// <summary>responses.create streamed: <see cref="CallStreamAsync"/>'s events, then the final response.</summary>
    public AsyncCallStream StreamResponseAsync(JsonObject request, CancellationToken cancellationToken = default) =>
        CallStreamAsync("responses.create", request, null, cancellationToken);

    /// <summary>responses.retrieve: the stored response <paramref name="id"/>.</summary>
    public Task<JsonNode?> RetrieveResponseAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("responses.retrieve", provider, "response_id", id, cancellationToken);

    /// <summary>responses.cancel (a background response).</summary>
    public Task<JsonNode?> CancelResponseAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("responses.cancel", provider, "response_id", id, cancellationToken);

    /// <summary>responses.delete.</summary>
    public Task<JsonNode?> DeleteResponseAsync(string id, string? provider = null, CancellationToken cancellationToken = default) =>
        ByIdAsync("responses.delete", provider, "response_id", id, cancellationToken);
}
