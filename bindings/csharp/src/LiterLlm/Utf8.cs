using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LiterLlm;

/// <summary>UTF-8 text to and from the C library.</summary>
internal static unsafe class Utf8
{
    /// <summary>A copy of a NUL-terminated string, or null for NULL.</summary>
    public static string? Read(byte* p) =>
        p == null ? null : Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p));

    /// <summary>The NUL-terminated span at p (empty for NULL).</summary>
    public static ReadOnlySpan<byte> Span(byte* p) =>
        p == null ? default : MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p);

    /// <summary>
    /// NUL-terminated UTF-8 bytes of s, or null for null. A NUL character inside s would end the text
    /// early for C: InvalidArgumentException naming what s is ("request", "config", ...).
    /// </summary>
    public static byte[]? Encode(string? s, string what)
    {
        if (s == null)
            return null;
        NoNul(s, what);
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>Throws InvalidArgumentException when s holds a NUL character.</summary>
    public static void NoNul(string s, string what)
    {
        var at = s.IndexOf('\0');
        if (at >= 0)
            throw LiterLlmException.Create(new ErrorInfo
            {
                Status = LlmStatus.InvalidArgument,
                Message = $"{what} holds a NUL character (at index {at})",
            });
    }

    /// <summary>Reads a string the library handed over (char *) and frees it.</summary>
    public static string TakeOwned(byte* p)
    {
        try { return Read(p) ?? ""; }
        finally { Native.NativeMethods.llm_string_free(p); }
    }
}

/// <summary>
/// A NUL-terminated UTF-8 request buffer, reused by the thread that last returned it: a request
/// is serialized straight into it and handed to the library, which copies what it needs before the
/// starting call returns, so no array is allocated per call.
/// </summary>
internal sealed class Utf8Request
{
    // Larger buffers are dropped rather than kept alive by a thread.
    const int MaxKept = 64 * 1024;

    [ThreadStatic] static Utf8Request? t_cached;

    public readonly ArrayBufferWriter<byte> Buffer = new(1024);
    Utf8JsonWriter? _writer;

    /// <summary>The calling thread's buffer (or a new one), empty.</summary>
    public static Utf8Request Rent()
    {
        var r = t_cached;
        if (r == null)
            return new Utf8Request();
        t_cached = null;
        return r;
    }

    /// <summary>Gives the buffer back to the calling thread for its next request.</summary>
    public void Return()
    {
        if (Buffer.Capacity > MaxKept)
            return;
        Buffer.ResetWrittenCount();
        t_cached = this;
    }

    /// <summary>A JSON writer over the buffer (reused, reset).</summary>
    public Utf8JsonWriter Writer()
    {
        if (_writer == null)
            _writer = new Utf8JsonWriter(Buffer, new JsonWriterOptions { SkipValidation = true });
        else
            _writer.Reset(Buffer);
        return _writer;
    }

    /// <summary>Writes s as UTF-8.</summary>
    public void Write(string s)
    {
        // The worst case for short text, the exact size for long text (no 3x over-allocation).
        var size = s.Length <= 16 * 1024 ? Encoding.UTF8.GetMaxByteCount(s.Length) : Encoding.UTF8.GetByteCount(s);
        var span = Buffer.GetSpan(size + 1);
        Buffer.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    public void Terminate()
    {
        Buffer.GetSpan(1)[0] = 0;
        Buffer.Advance(1);
    }

    /// <summary>The bytes written, NUL included.</summary>
    public ReadOnlySpan<byte> Span => Buffer.WrittenSpan;
}
