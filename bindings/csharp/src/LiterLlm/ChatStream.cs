using System.Collections;
using System.Text.Json;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>
/// A streamed chat read with blocking calls (one thread at a time). <see cref="Cancel"/> may be
/// called from any thread; Dispose cancels and frees the stream.
/// </summary>
public sealed unsafe class ChatStream : IEnumerable<ChatChunk>, IDisposable
{
    readonly LlmStreamHandle _handle;

    internal ChatStream(LlmStreamHandle handle) => _handle = handle;

    /// <summary>The next chunk, or null once the stream has ended; throws the stream's error.</summary>
    public ChatChunk? Next()
    {
        ChatChunk? chunk = null;
        NextRaw(span => chunk = JsonSerializer.Deserialize(span, LiterLlmJson.Default.ChatChunk));
        return chunk;
    }

    /// <summary>The next chunk as raw JSON text, or null once the stream has ended.</summary>
    public string? NextJson()
    {
        string? s = null;
        NextRaw(span => s = System.Text.Encoding.UTF8.GetString(span));
        return s;
    }

    delegate void SpanAction(ReadOnlySpan<byte> span);

    void NextRaw(SpanAction read)
    {
        bool added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            byte* chunk;
            llm_error_t* e;
            var st = NativeMethods.llm_stream_next_e(_handle.Ptr, &chunk, &e);
            LiterLlmException.Check(st, e);
            if (chunk != null)
                read(Utf8.Span(chunk)); // borrowed until the next call: read it now
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }

    /// <summary>Cancels the stream: a blocked or later <see cref="Next"/> throws <see cref="CancelledException"/>. Any thread.</summary>
    public void Cancel()
    {
        bool added = false;
        try { _handle.DangerousAddRef(ref added); }
        catch (ObjectDisposedException) { return; }
        try { NativeMethods.llm_stream_cancel(_handle.Ptr); }
        finally { if (added) _handle.DangerousRelease(); }
    }

    /// <summary>After the end: the assembled response, as a non-streamed call gives it.</summary>
    public ChatResponse FinalResponse()
    {
        bool added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            llm_response_t* r;
            llm_error_t* e;
            var st = NativeMethods.llm_stream_final_response_e(_handle.Ptr, &r, &e);
            LiterLlmException.Check(st, e);
            try { return LiterLlmClient.ParseResponse(r); }
            finally { NativeMethods.llm_response_free(r); }
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }

    /// <summary>Reads chunks until the end.</summary>
    public IEnumerator<ChatChunk> GetEnumerator()
    {
        ChatChunk? c;
        while ((c = Next()) != null)
            yield return c;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Cancels the stream if it still runs and frees it.</summary>
    public void Dispose()
    {
        Cancel();
        _handle.Dispose();
    }
}
