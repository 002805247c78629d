using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>
/// One event of a streamed call (for "responses.create" one of the Responses API's typed events:
/// "response.created", "response.output_text.delta", ..., "response.completed").
/// </summary>
public sealed class CallEvent
{
    internal CallEvent(string json, JsonElement element)
    {
        Json = json;
        Element = element;
        Type = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var t) &&
               t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        SequenceNumber = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("sequence_number", out var n) &&
                         n.TryGetInt64(out var seq) ? seq : null;
    }

    /// <summary>The event's "type", or null when it has none.</summary>
    public string? Type { get; }

    /// <summary>The event's "sequence_number", or null when it has none.</summary>
    public long? SequenceNumber { get; }

    /// <summary>The event's JSON text, as the provider sent it.</summary>
    public string Json { get; }

    /// <summary>The event's JSON, parsed (a detached element: valid for the event's lifetime).</summary>
    public JsonElement Element { get; }

    /// <summary>A string member of the event ("delta", "item_id", ...), or null.</summary>
    public string? GetString(string name) =>
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;

    /// <inheritdoc/>
    public override string ToString() => Json;
}

/// <summary>One llm_call_stream_async call feeding an <see cref="AsyncCallStream"/>.</summary>
internal sealed unsafe class CallStreamOp : AsyncOp
{
    public readonly AsyncCallStream Stream;
    readonly Uploads _uploads;

    public CallStreamOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token, AsyncCallStream stream, Uploads uploads)
        : base(owner, client, token)
    {
        Stream = stream;
        _uploads = uploads;
    }

    public void Unpin() => _uploads.Dispose();

    /// <summary>On the I/O thread: copies the final response (freeing it), unpins the uploads.</summary>
    public override void Done(LlmStatus status, llm_response_t* response, llm_error_t* error)
    {
        CallResponse? r = null;
        Exception? ex = null;
        try
        {
            if (status == LlmStatus.Ok)
                r = CallResponse.Read(response);
            else
                ex = Failure(status, error);
        }
        catch (Exception e)
        {
            ex = e;
        }
        finally
        {
            if (response != null)
                NativeMethods.llm_response_free(response);
        }
        _uploads.Dispose(); // the library is done with them
        Finish();
        Stream.OnDone(r, ex);
    }

    [UnmanagedCallersOnly]
    public static int OnChunk(byte* chunkJson, void* userData)
    {
        try
        {
            var op = (CallStreamOp)GCHandle.FromIntPtr((IntPtr)userData).Target!;
            return op.Stream.OnChunk(Utf8.Span(chunkJson)) ? 0 : 1;
        }
        catch
        {
            return 1;
        }
    }
}

/// <summary>
/// A streamed call (llm_call_stream_async) read with await foreach: the endpoint's events as they
/// arrive from the library's I/O thread, then <see cref="Response"/>, the final answer as a
/// non-streamed call gives it (for "responses.create" the "response" object of
/// response.completed). Cancelling the token, or leaving the loop early, cancels the transfer.
/// </summary>
public sealed class AsyncCallStream : IAsyncEnumerable<CallEvent>
{
    readonly LiterLlmClient _client;
    readonly string _endpoint;
    readonly string _request;
    readonly IReadOnlyList<ReadOnlyMemory<byte>>? _uploads;
    readonly CancellationToken _token;
    readonly Channel<CallEvent> _events = Channel.CreateUnbounded<CallEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    int _started;
    volatile bool _abandoned;
    volatile bool _done;
    Exception? _chunkError;

    internal AsyncCallStream(LiterLlmClient client, string endpoint, string request,
        IReadOnlyList<ReadOnlyMemory<byte>>? uploads, CancellationToken token)
    {
        _client = client;
        _endpoint = endpoint;
        _request = request;
        _uploads = uploads;
        _token = token;
    }

    /// <summary>The final answer once the stream has ended normally, else null.</summary>
    public CallResponse? Response { get; private set; }

    internal bool OnChunk(ReadOnlySpan<byte> json)
    {
        if (_abandoned)
            return false;
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(json);
            using var doc = JsonDocument.Parse(text);
            _events.Writer.TryWrite(new CallEvent(text, doc.RootElement.Clone()));
            return true;
        }
        catch (Exception ex)
        {
            _chunkError = ex;
            return false;
        }
    }

    internal void OnDone(CallResponse? final, Exception? error)
    {
        Response = final;
        _done = true;
        if (_chunkError != null)
            error = new SerializationException(new ErrorInfo { Status = LlmStatus.Serialization, Message = "a stream event: " + _chunkError.Message });
        _events.Writer.TryComplete(error);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerator<CallEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("a stream is read once");
        using var linked = cancellationToken.CanBeCanceled && _token.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(_token, cancellationToken) : null;
        var token = linked?.Token ?? (cancellationToken.CanBeCanceled ? cancellationToken : _token);
        var op = _client.StartCallStreamOp(_endpoint, _request, _uploads, this, token);
        try
        {
            var reader = _events.Reader;
            while (await StreamCancellation.WaitToReadAsync(reader, linked, _token, cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var ev))
                    yield return ev;
            }
        }
        finally
        {
            if (!_done)
            {
                _abandoned = true; // left early: stop the transfer
                op.Cancel();
            }
        }
    }
}

public sealed unsafe partial class LiterLlmClient
{
    /// <summary>
    /// A streamed call (llm_call_stream_async): "responses.create" (OpenAI's Responses API;
    /// "stream": true may be left out) or "chat". Read the events with await foreach; the final
    /// answer is then in <see cref="AsyncCallStream.Response"/>. The uploads stay pinned until
    /// the call ends. Nothing is sent until the loop starts.
    /// </summary>
    public AsyncCallStream CallStreamAsync(string endpoint, JsonNode? request, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null,
        CancellationToken cancellationToken = default) =>
        new(this, endpoint, request?.ToJsonString() ?? "{}", uploads, cancellationToken);

    /// <summary>As <see cref="CallStreamAsync"/> with the request as JSON text.</summary>
    public AsyncCallStream CallStreamJsonAsync(string endpoint, string requestJson, IReadOnlyList<ReadOnlyMemory<byte>>? uploads = null,
        CancellationToken cancellationToken = default) =>
        new(this, endpoint, requestJson, uploads, cancellationToken);

    internal CallStreamOp StartCallStreamOp(string endpoint, string requestJson, IReadOnlyList<ReadOnlyMemory<byte>>? uploads,
        AsyncCallStream target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var ep = Encode(endpoint, "endpoint");
        var req = Encode(requestJson, "request");
        var up = new Uploads(uploads);
        var op = new CallStreamOp(this, _handle, ct, target, up);
        try
        {
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
                st = NativeMethods.llm_call_stream_async_e(op.Client, pe, pr, up.Count == 0 ? null : (void**)pd,
                    up.Count == 0 ? null : ps, (nuint)up.Count, new llm_stream_chunk_cb(&CallStreamOp.OnChunk),
                    new llm_chat_done_e_cb(&Callbacks.OnDone), (void*)GCHandle.ToIntPtr(gch), &id, &e);
            if (st != LlmStatus.Ok)
            {
                gch.Free();
                op.Release();
                LiterLlmException.Check(st, e);
            }
            op.Started(id);
        }
        catch
        {
            op.Unpin();
            throw;
        }
        return op;
    }
}
