using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>
/// A client of libliterllm: one event loop and I/O thread, shared by any number of threads.
/// Dispose frees it: async calls and streams still in flight then end with
/// <see cref="CancelledException"/>; a blocking call running on another thread is not cancelled, and
/// holds the native client until it returns (it is freed then).
/// </summary>
public sealed unsafe partial class LiterLlmClient : IDisposable
{
    readonly LlmClientHandle _handle;
    // Async calls in flight (a list through AsyncOp.Prev/Next, under _opsLock), cancelled by Dispose.
    readonly object _opsLock = new();
    AsyncOp? _ops;

    LiterLlmClient(LlmClientHandle handle, LiterLlmClientOptions? options)
    {
        _handle = handle;
        InlineCompletions = options?.InlineCompletions ?? false;
    }

    /// <summary>Whether async calls complete their tasks on the I/O thread (see <see cref="LiterLlmClientOptions"/>).</summary>
    public bool InlineCompletions { get; }

    /// <summary>The native client, for the benchmark's raw baseline (no lease taken).</summary>
    internal llm_client_t* RawHandle => _handle.Ptr;

    internal void Track(AsyncOp op)
    {
        lock (_opsLock)
        {
            op.Next = _ops;
            if (_ops != null)
                _ops.Prev = op;
            _ops = op;
        }
    }

    internal void Untrack(AsyncOp op)
    {
        lock (_opsLock)
        {
            if (op.Prev != null)
                op.Prev.Next = op.Next;
            else if (_ops == op)
                _ops = op.Next;
            else
                return; // not tracked
            if (op.Next != null)
                op.Next.Prev = op.Prev;
            op.Prev = op.Next = null;
        }
    }

    /// <summary>Makes a client from a JSON configuration (null or "" for all defaults; see llm_client_new).</summary>
    public static LiterLlmClient Create(string? configJson = null) => Create(configJson, null);

    /// <summary>As <see cref="Create(string?)"/>, with the binding's own options.</summary>
    public static LiterLlmClient Create(string? configJson, LiterLlmClientOptions? options)
    {
        LiterLlmLibrary.EnsureCompatible();
        var cfg = Utf8.Encode(configJson, "config");
        llm_client_t* c;
        llm_error_t* e;
        LlmStatus st;
        fixed (byte* p = cfg)
            st = NativeMethods.llm_client_new_e(p, &c, &e);
        LiterLlmException.Check(st, e);
        return new LiterLlmClient(new LlmClientHandle(c), options);
    }

    /// <summary>Makes a client from a configuration object (serialized as JSON).</summary>
    public static LiterLlmClient Create(JsonObject config) => Create(config.ToJsonString(), null);

    /// <summary>As <see cref="Create(JsonObject)"/>, with the binding's own options.</summary>
    public static LiterLlmClient Create(JsonObject config, LiterLlmClientOptions? options) =>
        Create(config.ToJsonString(), options);

    /// <summary>Makes a client from a configuration file: TOML when the path ends in ".toml", else JSON.</summary>
    public static LiterLlmClient FromFile(string path) => FromFile(path, null);

    /// <summary>As <see cref="FromFile(string)"/>, with the binding's own options.</summary>
    public static LiterLlmClient FromFile(string path, LiterLlmClientOptions? options)
    {
        LiterLlmLibrary.EnsureCompatible();
        var bytes = Utf8.Encode(path, "path");
        llm_client_t* c;
        llm_error_t* e;
        LlmStatus st;
        fixed (byte* p = bytes)
            st = NativeMethods.llm_client_new_from_file_e(p, &c, &e);
        LiterLlmException.Check(st, e);
        return new LiterLlmClient(new LlmClientHandle(c), options);
    }

    /// <summary>
    /// Frees the client. Async calls in flight are cancelled; the native client is freed
    /// once the last call using it has returned.
    /// </summary>
    public void Dispose()
    {
        _handle.Dispose();
        List<AsyncOp> ops = new();
        lock (_opsLock)
        {
            for (var op = _ops; op != null; op = op.Next)
                ops.Add(op);
        }
        // Outside the lock: a cancel may run a done callback (which untracks) on the I/O thread.
        foreach (var op in ops)
            op.Cancel();
    }

    // Holds a reference on the native client for the span of one call.
    /// <summary>
    /// A library cancel token (llm_cancel_t) for one blocking call, triggered when the
    /// CancellationToken is cancelled; none (null) when that token cannot be cancelled.
    /// </summary>
    ref struct BlockingCancel
    {
        llm_cancel_t* _tok;
        CancellationTokenRegistration _reg;

        public BlockingCancel(CancellationToken ct)
        {
            _tok = null;
            _reg = default;
            if (!ct.CanBeCanceled)
                return;
            ct.ThrowIfCancellationRequested();
            llm_cancel_t* t;
            llm_error_t* e;
            LiterLlmException.Check(NativeMethods.llm_cancel_new_e(&t, &e), e);
            _tok = t;
            _reg = ct.UnsafeRegister(static s => Trigger((nint)s!), (nint)t);
        }

        static void Trigger(nint tok) => NativeMethods.llm_cancel_trigger((llm_cancel_t*)tok);

        public llm_cancel_t* Token => _tok;

        // Unregistering waits for a Trigger running on another thread: the token is unused once freed.
        public void Dispose()
        {
            _reg.Dispose();
            if (_tok != null)
                NativeMethods.llm_cancel_free(_tok);
            _tok = null;
        }

        /// <summary>LiterLlmException.Check, except that a cancellation the token asked for is an OperationCanceledException.</summary>
        public static void Check(LlmStatus st, llm_error_t* e, CancellationToken ct)
        {
            if (st == LlmStatus.Cancelled && ct.IsCancellationRequested)
            {
                NativeMethods.llm_error_free(e);
                throw new OperationCanceledException(ct);
            }
            LiterLlmException.Check(st, e);
        }
    }

    ref struct Lease
    {
        readonly LlmClientHandle _h;
        bool _added;
        public Lease(LlmClientHandle h)
        {
            _h = h;
            _added = false;
            try { h.DangerousAddRef(ref _added); }
            catch (ObjectDisposedException) { throw new ObjectDisposedException(nameof(LiterLlmClient)); }
        }
        public llm_client_t* Ptr => _h.Ptr;
        public void Dispose() { if (_added) _h.DangerousRelease(); }
    }

    /// <summary>The request as a NUL-terminated UTF-8 array (kept by a stream until it starts).</summary>
    internal static byte[] Serialize(ChatRequest request)
    {
        var req = SerializePooled(request);
        try { return req.Span.ToArray(); }
        finally { req.Return(); }
    }

    /// <summary>The request serialized into the thread's reusable buffer; the caller returns it.</summary>
    internal static Utf8Request SerializePooled(ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var req = Utf8Request.Rent();
        try
        {
            JsonSerializer.Serialize(req.Writer(), request, LiterLlmJson.Default.ChatRequest);
            req.Terminate();
            return req;
        }
        catch (InvalidOperationException) when (UndefinedElement(request) is { } field)
        {
            req.Return();
            throw LiterLlmException.Create(new ErrorInfo
            {
                Status = LlmStatus.InvalidArgument,
                Message = $"request field {field} holds a JsonElement without a value (default(JsonElement)): give it one, " +
                          "for example JsonSerializer.SerializeToElement(...), or leave the field out",
            });
        }
        catch
        {
            req.Return();
            throw;
        }
    }

    // Where the request holds a default(JsonElement), which System.Text.Json cannot write ("Operation is
    // not valid due to the current state of the object"): in an ExtensionData, or wrapped in a JsonNode
    // (JsonValue.Create(default(JsonElement))) of a field typed JsonNode. Its JSON path, else null.
    static string? UndefinedElement(ChatRequest r)
    {
        static bool Undefined(JsonNode? n) => n switch
        {
            JsonObject o => o.Any(kv => Undefined(kv.Value)),
            JsonArray a => a.Any(Undefined),
            JsonValue v => v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Undefined,
            _ => false,
        };
        static string? In(Dictionary<string, JsonElement>? data, string at)
        {
            if (data != null)
                foreach (var kv in data)
                    if (kv.Value.ValueKind == JsonValueKind.Undefined)
                        return at + kv.Key;
            return null;
        }
        static string? Node(JsonNode? n, string at) => Undefined(n) ? at : null;
        if ((In(r.ExtensionData, "") ?? Node(r.ToolChoice, "tool_choice") ?? Node(r.ResponseFormat, "response_format") ??
             Node(r.Stop, "stop")) is { } top)
            return top;
        if (r.ExtraBody != null)
            foreach (var kv in r.ExtraBody)
                if (Undefined(kv.Value))
                    return "extra_body." + kv.Key;
        for (var i = 0; i < (r.Messages?.Count ?? 0); i++)
        {
            var m = r.Messages![i];
            if (m == null)
                continue;
            if ((In(m.ExtensionData, $"messages[{i}].") ?? Node(m.Content, $"messages[{i}].content")) is { } at)
                return at;
            for (var j = 0; j < (m.ToolCalls?.Count ?? 0); j++)
            {
                var c = m.ToolCalls![j];
                if (c != null && (In(c.ExtensionData, $"messages[{i}].tool_calls[{j}].") ??
                                  In(c.Function?.ExtensionData, $"messages[{i}].tool_calls[{j}].function.")) is { } call)
                    return call;
            }
        }
        for (var i = 0; i < (r.Tools?.Count ?? 0); i++)
        {
            var t = r.Tools![i];
            if (t != null && (In(t.ExtensionData, $"tools[{i}].") ?? In(t.Function?.ExtensionData, $"tools[{i}].function.") ??
                              Node(t.Function?.Parameters, $"tools[{i}].function.parameters")) is { } tool)
                return tool;
        }
        return null;
    }

    /// <summary>Raw request JSON text in the thread's reusable buffer; the caller returns it.</summary>
    internal static Utf8Request EncodePooled(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Utf8.NoNul(json, "request");
        var req = Utf8Request.Rent();
        req.Write(json);
        req.Terminate();
        return req;
    }

    static byte[] Encode(string json, string what) => Utf8.Encode(json ?? throw new ArgumentNullException(what), what)!;

    internal static ChatResponse ParseResponse(llm_response_t* r)
    {
        var json = Utf8.Span(NativeMethods.llm_response_json(r));
        if (json.IsEmpty)
            throw new OutOfMemoryException("llm_response_json gave NULL");
        return JsonSerializer.Deserialize(json, LiterLlmJson.Default.ChatResponse)!;
    }

    // ------------------------------------------------------------------ chat

    /// <summary>Sends a request and waits for the answer, blocking the calling thread.</summary>
    public ChatResponse Chat(ChatRequest request) => ChatBytes(SerializePooled(request), &ParseResponse, default);

    /// <summary>
    /// As <see cref="Chat(ChatRequest)"/>; cancelling the token (from any thread) cancels the transfer and
    /// the call throws <see cref="OperationCanceledException"/>. The call still runs on this thread
    /// (llm_chat_cancellable_e with a cancel token the token's registration triggers).
    /// </summary>
    public ChatResponse Chat(ChatRequest request, CancellationToken cancellationToken) =>
        ChatBytes(SerializePooled(request), &ParseResponse, cancellationToken);

    /// <summary>As <see cref="Chat(ChatRequest)"/> with the request and the answer as raw JSON text.</summary>
    public string ChatJson(string requestJson) => ChatBytes(EncodePooled(requestJson), &ResponseJson, default);

    /// <summary>As <see cref="Chat(ChatRequest, CancellationToken)"/> with the request and the answer as raw JSON text.</summary>
    public string ChatJson(string requestJson, CancellationToken cancellationToken) =>
        ChatBytes(EncodePooled(requestJson), &ResponseJson, cancellationToken);

    T ChatBytes<T>(Utf8Request request, delegate*<llm_response_t*, T> read, CancellationToken ct)
    {
        llm_response_t* r;
        llm_error_t* e;
        LlmStatus st;
        try
        {
            using var cancel = new BlockingCancel(ct);
            using var lease = new Lease(_handle);
            fixed (byte* p = request.Span)
                st = NativeMethods.llm_chat_cancellable_e(lease.Ptr, p, cancel.Token, &r, &e);
        }
        finally
        {
            request.Return();
        }
        BlockingCancel.Check(st, e, ct);
        try { return read(r); }
        finally { NativeMethods.llm_response_free(r); }
    }

    internal static string ResponseJson(llm_response_t* r) =>
        Utf8.Read(NativeMethods.llm_response_json(r)) ?? throw new OutOfMemoryException("llm_response_json gave NULL");

    /// <summary>
    /// Starts llm_chat_async_e for op (which then owns a reference on the client until its done
    /// callback). Throws when the call cannot start; the request buffer is returned either way.
    /// </summary>
    void StartChat(Utf8Request request, AsyncOp op)
    {
        try
        {
            op.Token.ThrowIfCancellationRequested();
            // The op's reference may be dropped by a done callback that runs before the starting call
            // returns: a lease of our own keeps the client alive across the call.
            using var lease = new Lease(_handle);
            Launch(op, request.Span, &ChatAsyncE);
        }
        finally
        {
            request.Return();
        }
    }

    /// <summary>
    /// Makes one llm_*_async_e call (<paramref name="start"/>) for op, with op's GCHandle as the
    /// user data: op then holds a reference on the client until its done callback. Throws when the
    /// call cannot start (and lets both go again).
    /// </summary>
    static void Launch(AsyncOp op, ReadOnlySpan<byte> request,
        delegate*<llm_client_t*, byte*, void*, ulong*, llm_error_t**, LlmStatus> start)
    {
        op.Acquire();
        var gch = GCHandle.Alloc(op);
        ulong id;
        llm_error_t* e;
        LlmStatus st;
        fixed (byte* p = request)
            st = start(op.Client, p, (void*)GCHandle.ToIntPtr(gch), &id, &e);
        if (st != LlmStatus.Ok)
        {
            gch.Free();
            op.Release();
            LiterLlmException.Check(st, e);
        }
        op.Started(id);
    }

    static LlmStatus ChatAsyncE(llm_client_t* client, byte* request, void* userData, ulong* id, llm_error_t** e) =>
        NativeMethods.llm_chat_async_e(client, request, new llm_chat_done_e_cb(&Callbacks.OnDone), userData, id, e);

    static LlmStatus StreamAsyncE(llm_client_t* client, byte* request, void* userData, ulong* id, llm_error_t** e) =>
        NativeMethods.llm_chat_stream_async_e(client, request, new llm_stream_chunk_cb(&Callbacks.OnStreamChunk),
            new llm_chat_done_e_cb(&Callbacks.OnDone), userData, id, e);

    // ---------------------------------------------------------------- stream

    /// <summary>
    /// Starts a streamed chat read with blocking calls (<see cref="ChatStream"/>);
    /// <see cref="ChatStream.Cancel"/> works from any thread.
    /// </summary>
    public ChatStream Stream(ChatRequest request)
    {
        var req = SerializePooled(request);
        llm_stream_t* s;
        llm_error_t* e;
        LlmStatus st;
        try
        {
            using var lease = new Lease(_handle);
            fixed (byte* p = req.Span)
                st = NativeMethods.llm_chat_stream_e(lease.Ptr, p, &s, &e);
        }
        finally
        {
            req.Return();
        }
        LiterLlmException.Check(st, e);
        return new ChatStream(new LlmStreamHandle(s));
    }

    /// <summary>
    /// Streams a chat without blocking a thread: chunks arrive from the library's I/O thread.
    /// Cancelling the token, or leaving the loop early, cancels the transfer.
    /// </summary>
    public IAsyncEnumerable<ChatChunk> StreamAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        StartStream(request, cancellationToken);

    /// <summary>
    /// As <see cref="StreamAsync"/>, with the assembled response (content, tool calls, usage)
    /// in <see cref="AsyncChatStream.Response"/> once the chunks are read.
    /// </summary>
    public AsyncChatStream StartStream(ChatRequest request, CancellationToken cancellationToken = default) =>
        new AsyncChatStream(this, Serialize(request), cancellationToken);

    internal StreamOp StartStreamOp(byte[] request, AsyncChatStream target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var lease = new Lease(_handle); // as in StartChat
        var op = new StreamOp(this, _handle, ct, target);
        Launch(op, request, &StreamAsyncE);
        return op;
    }

    // ------------------------------------------------------------ inspection

    /// <summary>What a call would send (headers with credentials redacted), without sending it.</summary>
    public RequestPreview Preview(ChatRequest request, bool stream = false) =>
        JsonSerializer.Deserialize(PreviewJson(SerializePooled(request), stream), LiterLlmJson.Default.RequestPreview)!;

    /// <summary>As <see cref="Preview"/> with raw JSON text.</summary>
    public string PreviewJson(string requestJson, bool stream = false) => PreviewJson(EncodePooled(requestJson), stream);

    string PreviewJson(Utf8Request request, bool stream)
    {
        byte* o;
        llm_error_t* e;
        LlmStatus st;
        try
        {
            using var lease = new Lease(_handle);
            fixed (byte* p = request.Span)
                st = NativeMethods.llm_preview_request_e(lease.Ptr, p, stream ? 1 : 0, &o, &e);
        }
        finally
        {
            request.Return();
        }
        LiterLlmException.Check(st, e);
        return Utf8.TakeOwned(o);
    }

    /// <summary>The providers this client knows, registered ones first.</summary>
    public IReadOnlyList<ProviderInfo> Providers() =>
        JsonSerializer.Deserialize(ProvidersJson(), LiterLlmJson.Default.ListProviderInfo)!;

    /// <summary>The providers this client knows, as the library's JSON.</summary>
    public string ProvidersJson()
    {
        using var lease = new Lease(_handle);
        return ProvidersJson(lease.Ptr);
    }

    /// <summary>The global provider table.</summary>
    public static IReadOnlyList<ProviderInfo> GlobalProviders()
    {
        LiterLlmLibrary.EnsureCompatible();
        return JsonSerializer.Deserialize(ProvidersJson(null), LiterLlmJson.Default.ListProviderInfo)!;
    }

    static string ProvidersJson(llm_client_t* c)
    {
        byte* o;
        llm_error_t* e;
        var st = NativeMethods.llm_providers_json_e(c, &o, &e);
        LiterLlmException.Check(st, e);
        return Utf8.TakeOwned(o);
    }

    // -------------------------------------------------------------- providers

    /// <summary>Registers an OpenAI-compatible provider for this client only.</summary>
    public void RegisterProvider(ProviderRegistration provider) =>
        RegisterProviderJson(JsonSerializer.Serialize(provider, LiterLlmJson.Default.ProviderRegistration));

    /// <summary>Registers a provider for this client from its JSON description.</summary>
    public void RegisterProviderJson(string providerJson)
    {
        using var lease = new Lease(_handle);
        Register(lease.Ptr, providerJson);
    }

    /// <summary>Removes a provider registered on this client.</summary>
    public void UnregisterProvider(string name)
    {
        using var lease = new Lease(_handle);
        Unregister(lease.Ptr, name);
    }

    /// <summary>Registers a provider for every client made afterwards (and those alive that do not override it).</summary>
    public static void RegisterGlobalProvider(ProviderRegistration provider)
    {
        LiterLlmLibrary.EnsureCompatible();
        Register(null, JsonSerializer.Serialize(provider, LiterLlmJson.Default.ProviderRegistration));
    }

    /// <summary>Removes a globally registered provider.</summary>
    public static void UnregisterGlobalProvider(string name)
    {
        LiterLlmLibrary.EnsureCompatible();
        Unregister(null, name);
    }

    static void Register(llm_client_t* c, string json)
    {
        var bytes = Encode(json, "provider");
        llm_error_t* e;
        LlmStatus st;
        fixed (byte* p = bytes)
            st = NativeMethods.llm_register_provider_e(c, p, &e);
        LiterLlmException.Check(st, e);
    }

    static void Unregister(llm_client_t* c, string name)
    {
        var bytes = Encode(name, "name");
        llm_error_t* e;
        LlmStatus st;
        fixed (byte* p = bytes)
            st = NativeMethods.llm_unregister_provider_e(c, p, &e);
        LiterLlmException.Check(st, e);
    }
}
