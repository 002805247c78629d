using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

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

    /// <summary>NUL-terminated UTF-8 bytes of s, or null for null.</summary>
    public static byte[]? Encode(string? s)
    {
        if (s == null)
            return null;
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>Reads a string the library handed over (char *) and frees it.</summary>
    public static string TakeOwned(byte* p)
    {
        try { return Read(p) ?? ""; }
        finally { Native.NativeMethods.llm_string_free(p); }
    }
}

/// <summary>A NUL-terminated UTF-8 buffer written by a JSON writer.</summary>
internal sealed class Utf8Request
{
    public readonly ArrayBufferWriter<byte> Buffer = new(1024);

    public void Terminate()
    {
        Buffer.GetSpan(1)[0] = 0;
        Buffer.Advance(1);
    }
}
