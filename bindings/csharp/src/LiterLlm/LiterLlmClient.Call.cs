using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>
/// The answer of <see cref="LiterLlmClient.Call(string, JsonNode?, IReadOnlyList{ReadOnlyMemory{byte}}?)"/>:
/// the endpoint's answer in OpenAI's shape (plus "provider" and "stats") as JSON, the bytes of a
/// binary answer (audio.speech, files.content) and the vectors of an embeddings answer. It holds
/// copies: nothing in it refers to the library's memory.
/// </summary>
public sealed class CallResponse
{
    readonly float[] _vectors;

    internal CallResponse(string json, byte[]? bytes, string? contentType, float[] vectors, int count, int dimensions)
    {
        Json = json;
        Bytes = bytes;
        ContentType = contentType;
        _vectors = vectors;
        EmbeddingCount = count;
        EmbeddingDimensions = dimensions;
    }

    /// <summary>The answer's JSON text.</summary>
    public string Json { get; }

    /// <summary>The answer's JSON, parsed.</summary>
    public JsonNode? Parse() => JsonNode.Parse(Json);

    /// <summary>A binary answer's bytes; null for a JSON answer.</summary>
    public byte[]? Bytes { get; }

    /// <summary>A binary answer's Content-Type ("audio/mpeg", ...); null for a JSON answer.</summary>
    public string? ContentType { get; }

    /// <summary>The number of vectors of an embeddings answer (0 when it holds none).</summary>
    public int EmbeddingCount { get; }

    /// <summary>The length of each vector.</summary>
    public int EmbeddingDimensions { get; }

    /// <summary>The vectors as one row-major array (vector i at i * <see cref="EmbeddingDimensions"/>).</summary>
    public ReadOnlyMemory<float> EmbeddingsFlat => _vectors;

    /// <summary>The vectors in input order (read from the library without parsing JSON); empty when none.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Embeddings()
    {
        var list = new ReadOnlyMemory<float>[EmbeddingCount];
        for (int i = 0; i < list.Length; i++)
            list[i] = new ReadOnlyMemory<float>(_vectors, i * EmbeddingDimensions, EmbeddingDimensions);
        return list;
    }

    internal static unsafe CallResponse Read(llm_response_t* r)
    {
        var json = Utf8.Read(NativeMethods.llm_response_json(r)) ?? throw new OutOfMemoryException("llm_response_json gave NULL");
        nuint n;
        var b = NativeMethods.llm_response_bytes(r, &n);
        byte[]? bytes = b == null ? null : new ReadOnlySpan<byte>(b, checked((int)n)).ToArray();
        var ct = b == null ? null : Utf8.Read(NativeMethods.llm_response_content_type(r));
        nuint count, dims;
        var v = NativeMethods.llm_response_embeddings(r, &count, &dims);
        float[] vectors = v == null ? [] : new ReadOnlySpan<float>(v, checked((int)(count * dims))).ToArray();
        return v == null
            ? new CallResponse(json, bytes, ct, vectors, 0, 0)
            : new CallResponse(json, bytes, ct, vectors, (int)count, (int)dims);
    }
}

/// <summary>One entry of a provider's model list.</summary>
/// <param name="Id">The model's id.</param>
/// <param name="OwnedBy">Its owner, when the provider says.</param>
/// <param name="Created">When it was made (Unix seconds), when the provider says.</param>
public sealed record ModelInfo(string Id, string? OwnedBy, long? Created);

/// <summary>The upload buffers of one call, pinned until the call ends.</summary>
internal sealed unsafe class Uploads : IDisposable
{
    static readonly byte[] s_empty = GC.AllocateArray<byte>(1, pinned: true);
    MemoryHandle[] _pins;
    public readonly nint[] Pointers;
    public readonly nuint[] Sizes;

    public Uploads(IReadOnlyList<ReadOnlyMemory<byte>>? uploads)
    {
        int n = uploads?.Count ?? 0;
        _pins = new MemoryHandle[n];
        Pointers = new nint[n];
        Sizes = new nuint[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                var m = uploads![i];
                _pins[i] = m.Pin();
                var p = _pins[i].Pointer;
                // An empty buffer still gets a valid pointer (to no bytes).
                Pointers[i] = p != null ? (nint)p : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_empty));
                Sizes[i] = (nuint)m.Length;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Count => Pointers.Length;

    /// <summary>Unpins the buffers. Idempotent; any thread.</summary>
    public void Dispose()
    {
        var pins = Interlocked.Exchange(ref _pins, []);
        foreach (var h in pins)
            h.Dispose();
    }
}

/// <summary>
/// One CallAsync: holds the client and keeps the uploads pinned until the done callback; the task
/// is completed on the thread pool as <see cref="ChatOp{T}"/>'s.
/// </summary>
internal sealed unsafe class CallOp : AsyncOp, ICompletion
{
    readonly TaskCompletionSource<CallResponse> _result = new();
    readonly Uploads _uploads;
    CallResponse? _response;
    Exception? _error;

    public CallOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token, Uploads uploads)
        : base(owner, client, token) => _uploads = uploads;

    public Task<CallResponse> Task => _result.Task;

    /// <summary>On the I/O thread: copies the response (freeing it), unpins the uploads.</summary>
    public override void Done(LlmStatus status, llm_response_t* response, llm_error_t* error)
    {
        try
        {
            if (status == LlmStatus.Ok)
                _response = CallResponse.Read(response);
            else
                _error = Failure(status, error);
        }
        catch (Exception ex)
        {
            _error = ex;
        }
        finally
        {
            if (response != null)
                NativeMethods.llm_response_free(response);
        }
        _uploads.Dispose(); // the library is done with them
        Finish();
        Deliver(this);
    }

    public void Complete()
    {
        if (_error is OperationCanceledException oce)
            _result.TrySetCanceled(oce.CancellationToken);
        else if (_error != null)
            _result.TrySetException(_error);
        else
            _result.TrySetResult(_response!);
    }

    public Task<CallResponse> Failed(Exception ex)
    {
        _uploads.Dispose();
        _error = ex;
        Complete();
        return _result.Task;
    }
}

public sealed unsafe partial class LiterLlmClient
{
    /// <summary>
    /// Calls any endpoint of llm_call ("embeddings", "models", "audio.speech",
    /// "audio.transcriptions", "files.create", ...) and waits for the answer, blocking the thread.
    /// <paramref name="uploads"/> are the buffers the request refers to as {"data": index,
    /// "filename": ...}; they are pinned (not copied) for the call.
    /// </summary>
    public CallResponse Call(string endpoint, JsonNode? request, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null) =>
        CallJson(endpoint, request?.ToJsonString() ?? "{}", uploads, default);

    /// <summary>
    /// As <see cref="Call(string, JsonNode?, IReadOnlyList{ReadOnlyMemory{byte}}?)"/>; cancelling the token
    /// (from any thread) cancels the transfer and the call throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public CallResponse Call(string endpoint, JsonNode? request, IReadOnlyList<ReadOnlyMemory<byte>>? uploads,
        CancellationToken cancellationToken) =>
        CallJson(endpoint, request?.ToJsonString() ?? "{}", uploads, cancellationToken);

    /// <summary>As <see cref="Call(string, JsonNode?, IReadOnlyList{ReadOnlyMemory{byte}}?)"/> with the request as JSON text.</summary>
    public CallResponse CallJson(string endpoint, string requestJson, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null) =>
        CallJson(endpoint, requestJson, uploads, default);

    /// <summary>As <see cref="Call(string, JsonNode?, IReadOnlyList{ReadOnlyMemory{byte}}?, CancellationToken)"/> with the request as JSON text.</summary>
    public CallResponse CallJson(string endpoint, string requestJson, IReadOnlyList<ReadOnlyMemory<byte>>? uploads,
        CancellationToken cancellationToken)
    {
        var ep = Encode(endpoint, "endpoint");
        var req = Encode(requestJson, "request");
        llm_response_t* r;
        llm_error_t* e;
        LlmStatus st;
        using (var cancel = new BlockingCancel(cancellationToken))
        using (var up = new Uploads(uploads))
        using (var lease = new Lease(_handle))
        {
            fixed (byte* pe = ep)
            fixed (byte* pr = req)
            fixed (nint* pd = up.Pointers)
            fixed (nuint* ps = up.Sizes)
                st = NativeMethods.llm_call_cancellable_e(lease.Ptr, pe, pr, up.Count == 0 ? null : (void**)pd,
                    up.Count == 0 ? null : ps, (nuint)up.Count, cancel.Token, &r, &e);
        }
        BlockingCancel.Check(st, e, cancellationToken);
        try { return CallResponse.Read(r); }
        finally { NativeMethods.llm_response_free(r); }
    }

    /// <summary>
    /// As <see cref="Call(string, JsonNode?, IReadOnlyList{ReadOnlyMemory{byte}}?)"/> without
    /// blocking a thread. The uploads stay pinned until the library's done callback; cancelling
    /// the token cancels the transfer (an <see cref="OperationCanceledException"/>).
    /// </summary>
    public Task<CallResponse> CallAsync(string endpoint, JsonNode? request, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null,
        CancellationToken cancellationToken = default)
    {
        string json;
        try { json = request?.ToJsonString() ?? "{}"; }
        catch (Exception ex) { return System.Threading.Tasks.Task.FromException<CallResponse>(ex); }
        return CallJsonAsync(endpoint, json, uploads, cancellationToken);
    }

    /// <summary>As <see cref="CallAsync"/> with the request as JSON text.</summary>
    public Task<CallResponse> CallJsonAsync(string endpoint, string requestJson, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null,
        CancellationToken cancellationToken = default)
    {
        Uploads up;
        try { up = new Uploads(uploads); }
        catch (Exception ex) { return System.Threading.Tasks.Task.FromException<CallResponse>(ex); }
        var op = new CallOp(this, _handle, cancellationToken, up);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ep = Encode(endpoint, "endpoint");
            var req = Encode(requestJson, "request");
            using var lease = new Lease(_handle); // as in StartChat
            op.Acquire();
            var gch = GCHandle.Alloc(op);
            ulong id;
            llm_error_t* e;
            LlmStatus st;
            fixed (byte* pe = ep)
            fixed (byte* pr = req)
            fixed (nint* pd = up.Pointers)
            fixed (nuint* ps = up.Sizes)
                st = NativeMethods.llm_call_async_e(op.Client, pe, pr, up.Count == 0 ? null : (void**)pd, up.Count == 0 ? null : ps,
                    (nuint)up.Count, new llm_chat_done_e_cb(&Callbacks.OnDone), (void*)GCHandle.ToIntPtr(gch), &id, &e);
            if (st != LlmStatus.Ok)
            {
                gch.Free();
                op.Release();
                LiterLlmException.Check(st, e);
            }
            op.Started(id);
        }
        catch (Exception ex)
        {
            return op.Failed(ex);
        }
        return op.Task;
    }

    /// <summary>What a call would send (multipart uploads as "parts"), credentials redacted, as JSON.</summary>
    public string PreviewCall(string endpoint, JsonNode? request, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null)
    {
        var ep = Encode(endpoint, "endpoint");
        var req = Encode(request?.ToJsonString() ?? "{}", "request");
        byte* o;
        llm_error_t* e;
        LlmStatus st;
        using (var up = new Uploads(uploads))
        using (var lease = new Lease(_handle))
        {
            fixed (byte* pe = ep)
            fixed (byte* pr = req)
            fixed (nint* pd = up.Pointers)
            fixed (nuint* ps = up.Sizes)
                st = NativeMethods.llm_preview_call_e(lease.Ptr, pe, pr, up.Count == 0 ? null : (void**)pd, up.Count == 0 ? null : ps,
                    (nuint)up.Count, &o, &e);
        }
        LiterLlmException.Check(st, e);
        return Utf8.TakeOwned(o);
    }

}

public sealed partial class LiterLlmClient
{
    // ------------------------------------------------------------ conveniences

    /// <summary>Embeddings of <paramref name="inputs"/>, one vector per input in input order.</summary>
    /// <param name="inputs">The texts.</param>
    /// <param name="model">"provider/model" as in chat; null for the client's default provider.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> inputs, string? model = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var arr = new JsonArray();
        foreach (var s in inputs)
            arr.Add((JsonNode?)JsonValue.Create(s));
        var req = new JsonObject { ["input"] = arr };
        if (model != null)
            req["model"] = model;
        var r = await CallAsync("embeddings", req, null, cancellationToken).ConfigureAwait(false);
        return r.Embeddings().Select(v => v.ToArray()).ToArray();
    }

    /// <summary>The embedding of one text.</summary>
    public async Task<float[]> EmbedAsync(string input, string? model = null, CancellationToken cancellationToken = default)
    {
        var all = await EmbedAsync([input], model, cancellationToken).ConfigureAwait(false);
        return all.Length == 1 ? all[0] : throw new SerializationException(
            new ErrorInfo { Status = LlmStatus.Serialization, Message = "embeddings: the answer holds no vector" });
    }

    /// <summary>A provider's models; null for the client's default provider.</summary>
    public async Task<IReadOnlyList<ModelInfo>> ModelsAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        var req = new JsonObject();
        if (provider != null)
            req["provider"] = provider;
        var r = await CallAsync("models", req, null, cancellationToken).ConfigureAwait(false);
        var list = new List<ModelInfo>();
        if (r.Parse()?["data"] is JsonArray data)
        {
            foreach (var m in data)
            {
                if (m is not JsonObject o || o["id"]?.GetValue<string>() is not string id)
                    continue;
                long? created = o["created"] is JsonValue c && c.TryGetValue<long>(out var t) ? t : null;
                list.Add(new ModelInfo(id, o["owned_by"]?.GetValue<string>(), created));
            }
        }
        return list;
    }

    /// <summary>Speech for <paramref name="input"/>: the audio bytes and their Content-Type.</summary>
    public async Task<(byte[] Audio, string? ContentType)> SpeechAsync(string input, string? model = null, string? voice = null,
        JsonObject? fields = null, CancellationToken cancellationToken = default)
    {
        var req = fields?.DeepClone().AsObject() ?? new JsonObject();
        req["input"] = input;
        if (model != null)
            req["model"] = model;
        if (voice != null)
            req["voice"] = voice;
        var r = await CallAsync("audio.speech", req, null, cancellationToken).ConfigureAwait(false);
        return (r.Bytes ?? throw new SerializationException(
            new ErrorInfo { Status = LlmStatus.Serialization, Message = "audio.speech: the answer holds no bytes" }), r.ContentType);
    }

    /// <summary>The transcription (OpenAI's answer: "text" and more) of a file's bytes named <paramref name="filename"/>.</summary>
    public async Task<JsonNode?> TranscribeAsync(ReadOnlyMemory<byte> audio, string filename, string? model = null,
        JsonObject? fields = null, CancellationToken cancellationToken = default)
    {
        var req = fields?.DeepClone().AsObject() ?? new JsonObject();
        req["file"] = new JsonObject { ["data"] = 0, ["filename"] = filename };
        if (model != null)
            req["model"] = model;
        var r = await CallAsync("audio.transcriptions", req, [audio], cancellationToken).ConfigureAwait(false);
        return r.Parse();
    }

    /// <summary>The transcription of the audio file at <paramref name="path"/> (read as it is sent).</summary>
    public async Task<JsonNode?> TranscribeFileAsync(string path, string? model = null, JsonObject? fields = null,
        CancellationToken cancellationToken = default)
    {
        var req = fields?.DeepClone().AsObject() ?? new JsonObject();
        req["file"] = new JsonObject { ["path"] = path };
        if (model != null)
            req["model"] = model;
        var r = await CallAsync("audio.transcriptions", req, null, cancellationToken).ConfigureAwait(false);
        return r.Parse();
    }
}
