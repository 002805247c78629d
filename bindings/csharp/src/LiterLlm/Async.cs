using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>One llm_chat_async / llm_chat_stream_async call: holds the client until its done callback.</summary>
internal sealed unsafe class AsyncOp
{
    readonly LiterLlmClient _owner;
    readonly LlmClientHandle _client;
    bool _added;
    public readonly CancellationToken Token;
    // Completed on a thread-pool thread by Completions, so continuations may run inline.
    public readonly TaskCompletionSource<LlmResponseHandle> Result = new();
    public LlmResponseHandle? Response;
    public Exception? Error;
    public AsyncChatStream? Stream;
    readonly object _lock = new();
    ulong _id;
    int _state; // 0 starting, 1 running, 2 done
    bool _cancelRequested;
    CancellationTokenRegistration _reg;

    public AsyncOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token)
    {
        _owner = owner;
        _client = client;
        Token = token;
    }

    public llm_client_t* Client => _client.Ptr;

    public void Acquire()
    {
        try { _client.DangerousAddRef(ref _added); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(nameof(LiterLlmClient)); }
        _owner.Track(this);
    }

    public void Release()
    {
        _owner.Untrack(this);
        if (_added)
        {
            _added = false;
            _client.DangerousRelease(); // may free the client: from a callback the library defers it
        }
    }

    public void Started(ulong id)
    {
        lock (_lock)
        {
            if (_state == 2)
                return;
            _id = id;
            _state = 1;
            if (Token.CanBeCanceled)
                _reg = Token.UnsafeRegister(static s => ((AsyncOp)s!).Cancel(), this);
            if (_cancelRequested)
                NativeMethods.llm_client_cancel(Client, _id);
        }
    }

    /// <summary>Cancels the native call unless it has ended. Any thread.</summary>
    public void Cancel()
    {
        lock (_lock)
        {
            if (_state == 0)
                _cancelRequested = true;
            else if (_state == 1)
                NativeMethods.llm_client_cancel(Client, _id); // an unknown or finished id is no error
        }
    }

    /// <summary>Called once from the done callback, after the result is recorded.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            _state = 2;
            _reg.Unregister();
        }
        Release();
    }

    public Exception Failure(LlmStatus status, llm_error_t* error)
    {
        if (status == LlmStatus.Cancelled && Token.IsCancellationRequested)
            return new OperationCanceledException(Token);
        return LiterLlmException.Create(ErrorInfo.From(error, status));
    }
}

/// <summary>
/// Hands finished calls from the I/O thread to the thread pool: one work item at a time drains the
/// queue, asking for another worker only while more remain, so a burst of answers wakes one thread
/// rather than one per answer.
/// </summary>
internal static class Completions
{
    static readonly System.Collections.Concurrent.ConcurrentQueue<AsyncOp> _queue = new();
    static int _scheduled;
    static readonly Drainer _drainer = new();

    public static void Post(AsyncOp op)
    {
        _queue.Enqueue(op);
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(_drainer, preferLocal: false);
    }

    sealed class Drainer : IThreadPoolWorkItem
    {
        public void Execute()
        {
            Volatile.Write(ref _scheduled, 0);
            if (!_queue.TryDequeue(out var op))
                return;
            // More waiting: let another worker take them while this one runs op's continuation.
            if (!_queue.IsEmpty && Interlocked.Exchange(ref _scheduled, 1) == 0)
                ThreadPool.UnsafeQueueUserWorkItem(_drainer, preferLocal: false);
            if (op.Error != null)
                op.Result.TrySetException(op.Error);
            else if (!op.Result.TrySetResult(op.Response!))
                op.Response!.Dispose();
        }
    }
}

/// <summary>The [UnmanagedCallersOnly] entry points the library calls on its I/O thread.</summary>
internal static unsafe class Callbacks
{
    // Each callback only records the outcome and returns: user code runs on the thread pool.
    [UnmanagedCallersOnly]
    public static void OnChatDone(LlmStatus status, llm_response_t* response, llm_error_t* error, void* userData)
    {
        try
        {
            var gch = GCHandle.FromIntPtr((IntPtr)userData);
            var op = (AsyncOp)gch.Target!;
            gch.Free();
            if (status == LlmStatus.Ok)
                op.Response = new LlmResponseHandle(response);
            else
                op.Error = op.Failure(status, error);
            op.Finish();
            Completions.Post(op);
        }
        catch
        {
            // An exception must never unwind into C.
        }
    }

    [UnmanagedCallersOnly]
    public static int OnStreamChunk(byte* chunkJson, void* userData)
    {
        try
        {
            var op = (AsyncOp)GCHandle.FromIntPtr((IntPtr)userData).Target!;
            return op.Stream!.OnChunk(Utf8.Span(chunkJson)) ? 0 : 1;
        }
        catch
        {
            return 1;
        }
    }

    [UnmanagedCallersOnly]
    public static void OnStreamDone(LlmStatus status, llm_response_t* response, llm_error_t* error, void* userData)
    {
        try
        {
            var gch = GCHandle.FromIntPtr((IntPtr)userData);
            var op = (AsyncOp)gch.Target!;
            gch.Free();
            var stream = op.Stream!;
            if (status == LlmStatus.Ok)
            {
                var h = new LlmResponseHandle(response);
                op.Finish();
                stream.OnDone(h, null);
            }
            else
            {
                var ex = op.Failure(status, error);
                op.Finish();
                stream.OnDone(null, ex);
            }
        }
        catch
        {
        }
    }
}

/// <summary>
/// A streamed chat read with await foreach. Chunks are queued by the library's I/O thread;
/// <see cref="Response"/> holds the assembled answer once the stream has ended normally.
/// </summary>
public sealed class AsyncChatStream : IAsyncEnumerable<ChatChunk>
{
    readonly LiterLlmClient _client;
    readonly byte[] _request;
    readonly CancellationToken _token;
    readonly Channel<ChatChunk> _chunks = Channel.CreateUnbounded<ChatChunk>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    int _started;
    volatile bool _abandoned;
    volatile bool _done;
    Exception? _chunkError;
    LlmResponseHandle? _final;
    ChatResponse? _response;

    internal AsyncChatStream(LiterLlmClient client, byte[] request, CancellationToken token)
    {
        _client = client;
        _request = request;
        _token = token;
    }

    /// <summary>The assembled response (as a non-streamed call gives) once the stream has ended normally, else null.</summary>
    public unsafe ChatResponse? Response
    {
        get
        {
            if (_response == null && _final != null)
            {
                lock (_chunks)
                {
                    if (_response == null)
                    {
                        _response = LiterLlmClient.ParseResponse(_final.Ptr);
                        _final.Dispose();
                    }
                }
            }
            return _response;
        }
    }

    internal bool OnChunk(ReadOnlySpan<byte> json)
    {
        if (_abandoned)
            return false;
        try
        {
            _chunks.Writer.TryWrite(JsonSerializer.Deserialize(json, LiterLlmJson.Default.ChatChunk)!);
            return true;
        }
        catch (Exception ex)
        {
            _chunkError = ex;
            return false;
        }
    }

    internal void OnDone(LlmResponseHandle? final, Exception? error)
    {
        _final = final;
        _done = true;
        if (_chunkError != null)
            error = new SerializationException(new ErrorInfo { Status = LlmStatus.Serialization, Message = "a stream chunk: " + _chunkError.Message });
        _chunks.Writer.TryComplete(error);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerator<ChatChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("a stream is read once");
        using var linked = cancellationToken.CanBeCanceled && _token.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(_token, cancellationToken) : null;
        var token = linked?.Token ?? (cancellationToken.CanBeCanceled ? cancellationToken : _token);
        var op = _client.StartStreamOp(_request, this, token);
        try
        {
            var reader = _chunks.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var chunk))
                    yield return chunk;
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
