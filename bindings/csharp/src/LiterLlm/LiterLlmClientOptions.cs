namespace LiterLlm;

/// <summary>Options of the binding itself (the library's own settings are in the JSON configuration).</summary>
public sealed class LiterLlmClientOptions
{
    /// <summary>
    /// When true, <c>ChatAsync</c>, <c>ChatJsonAsync</c> and <c>CallAsync</c> complete their tasks on
    /// the library's I/O thread, inside its done callback, so the code after an <c>await</c> runs
    /// there with no hand-over to the thread pool: one thread wake-up per call instead of two, and
    /// a next call started from that code leaves in the same turn of the loop. The default (false)
    /// completes them on the thread pool.
    /// <para>
    /// The price: until that code reaches its next <c>await</c> (or ends), no other call of the
    /// client moves. It must not block; it may start calls and await them. A blocking call there
    /// (<c>Chat</c>, or reading a <c>Stream</c>) fails with <see cref="InvalidArgumentException"/>, and waiting on
    /// another call's task (<c>.Result</c>, <c>.Wait()</c>) never ends, since only this thread can
    /// complete it. Code that awaits with a <see cref="SynchronizationContext"/> (a UI thread)
    /// still resumes on that context. Streams are unaffected.
    /// </para>
    /// </summary>
    public bool InlineCompletions { get; init; }
}
