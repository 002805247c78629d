using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>One llm_chat_async / llm_chat_stream_async call: holds the client until its done callback.</summary>
internal abstract unsafe class AsyncOp
{
    readonly LiterLlmClient _owner;
    readonly LlmClientHandle _client;
    bool _added;
    public readonly CancellationToken Token;
    // LiterLlmClient's list of calls in flight (under its lock).
    internal AsyncOp? Prev, Next;
    ulong _id;
    int _state; // 0 starting, 1 running, 2 done; under lock (this)
    bool _cancelRequested;
    CancellationTokenRegistration _reg;

    protected AsyncOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token)
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
        lock (this)
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
        lock (this)
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
        CancellationTokenRegistration reg;
        lock (this)
        {
            _state = 2;
            reg = _reg;
            _reg = default;
        }
        // Outside the lock: Unregister waits for nothing, but keeps the lock short.
        reg.Unregister();
        Release();
    }

    /// <summary>
    /// After <see cref="Finish"/>, on the I/O thread: completes the call's task on the thread pool, or
    /// right here for a client made with <see cref="LiterLlmClientOptions.InlineCompletions"/>.
    /// </summary>
    protected void Deliver(ICompletion completion)
    {
        if (_owner.InlineCompletions)
            completion.Complete();
        else
            Completions.Post(completion);
    }

    /// <summary>The done callback's work, on the I/O thread; error is borrowed for the call.</summary>
    public abstract void Done(LlmStatus status, llm_response_t* response, llm_error_t* error);

    public Exception Failure(LlmStatus status, llm_error_t* error)
    {
        if (status == LlmStatus.Cancelled && Token.IsCancellationRequested)
            return new OperationCanceledException(Token);
        return LiterLlmException.Create(ErrorInfo.From(error, status));
    }
}

/// <summary>
/// One ChatAsync / ChatJsonAsync call. The done callback (on the library's I/O thread) records
/// the outcome, drops the client's reference and posts the op to <see cref="Completions"/>; on
/// the pool thread the response is read straight from the library's UTF-8 bytes, freed, and the
/// task completed, so its continuations run there (never on the I/O thread) with no further hop.
/// ChatAsync returns this op's task itself: no async state machine, no SafeHandle per response.
/// </summary>
internal sealed unsafe class ChatOp<T> : AsyncOp, ICompletion
{
    readonly delegate*<llm_response_t*, T> _read;
    readonly TaskCompletionSource<T> _result = new(); // completed on a pool thread (or, inline, the I/O thread): continuations run there
    llm_response_t* _response;
    Exception? _error;

    public ChatOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token, delegate*<llm_response_t*, T> read)
        : base(owner, client, token) => _read = read;

    public Task<T> Task => _result.Task;

    /// <summary>The done callback, on the I/O thread: records the outcome and leaves the rest to the pool.</summary>
    public override void Done(LlmStatus status, llm_response_t* response, llm_error_t* error)
    {
        if (status == LlmStatus.Ok)
            _response = response;
        else
        {
            if (response != null)
                NativeMethods.llm_response_free(response);
            try { _error = Failure(status, error); }
            catch (Exception ex) { _error = ex; } // out of memory copying the error: the task still ends
        }
        Finish();
        Deliver(this);
    }

    /// <summary>On a pool thread (inline: the I/O thread): reads the response, frees it, completes the task.</summary>
    public void Complete()
    {
        if (_error != null)
        {
            SetError(_error);
            return;
        }
        T value;
        var r = _response;
        _response = null;
        try
        {
            value = _read(r);
        }
        catch (Exception ex)
        {
            _result.TrySetException(ex);
            return;
        }
        finally
        {
            NativeMethods.llm_response_free(r);
        }
        _result.TrySetResult(value);
    }

    void SetError(Exception ex)
    {
        if (ex is OperationCanceledException oce)
            _result.TrySetCanceled(oce.CancellationToken);
        else
            _result.TrySetException(ex);
    }

    /// <summary>A call that could not start: the task fails as an async method's would.</summary>
    public Task<T> Failed(Exception ex)
    {
        SetError(ex);
        return _result.Task;
    }
}

/// <summary>A finished call whose task is completed on the thread pool.</summary>
internal interface ICompletion
{
    /// <summary>On a pool thread: completes the call's task (its continuations run here, inline).</summary>
    void Complete();
}

/// <summary>
/// Hands finished calls from the I/O thread to the thread pool: one work item at a time drains the
/// queue, asking for another worker only while more remain, so a burst of answers wakes one thread
/// rather than one per answer.
/// </summary>
internal static class Completions
{
    static readonly System.Collections.Concurrent.ConcurrentQueue<ICompletion> _queue = new();
    static int _scheduled;
    static readonly Drainer _drainer = new();

    public static void Post(ICompletion op)
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
            op.Complete();
        }
    }
}

/// <summary>One llm_chat_stream_async call feeding an <see cref="AsyncChatStream"/>.</summary>
internal sealed unsafe class StreamOp : AsyncOp
{
    public readonly AsyncChatStream Stream;

    public StreamOp(LiterLlmClient owner, LlmClientHandle client, CancellationToken token, AsyncChatStream stream)
        : base(owner, client, token) => Stream = stream;

    public override void Done(LlmStatus status, llm_response_t* response, llm_error_t* error)
    {
        if (status == LlmStatus.Ok)
        {
            var h = new LlmResponseHandle(response);
            Finish();
            Stream.OnDone(h, null);
        }
        else
        {
            var ex = Failure(status, error);
            Finish();
            Stream.OnDone(null, ex);
        }
    }
}

/// <summary>The [UnmanagedCallersOnly] entry points the library calls on its I/O thread.</summary>
internal static unsafe class Callbacks
{
    // Each callback only records the outcome and returns: user code runs on the thread pool.
    [UnmanagedCallersOnly]
    public static void OnDone(LlmStatus status, llm_response_t* response, llm_error_t* error, void* userData)
    {
        try
        {
            var gch = GCHandle.FromIntPtr((IntPtr)userData);
            var op = (AsyncOp)gch.Target!;
            gch.Free();
            op.Done(status, response, error);
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
            var op = (StreamOp)GCHandle.FromIntPtr((IntPtr)userData).Target!;
            return op.Stream.OnChunk(Utf8.Span(chunkJson)) ? 0 : 1;
        }
        catch
        {
            return 1;
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
            while (await StreamCancellation.WaitToReadAsync(reader, linked, _token, cancellationToken).ConfigureAwait(false))
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

/// <summary>
/// A stream's cancellation: the token given when the stream was made, the enumerator's
/// (WithCancellation), or both linked; a cancellation by the linked token is reported with the
/// caller's token that was cancelled (the linked one's source is disposed with the enumerator).
/// </summary>
internal static class StreamCancellation
{
    public static async ValueTask<bool> WaitToReadAsync<T>(System.Threading.Channels.ChannelReader<T> reader,
        CancellationTokenSource? linked, CancellationToken own, CancellationToken enumerator)
    {
        try
        {
            return await reader.WaitToReadAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (linked != null && ex.CancellationToken == linked.Token)
        {
            throw new OperationCanceledException(ex.Message, ex.InnerException, enumerator.IsCancellationRequested ? enumerator : own);
        }
    }
}
