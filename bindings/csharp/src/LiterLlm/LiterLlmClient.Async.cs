using LiterLlm.Native;

namespace LiterLlm;

public sealed unsafe partial class LiterLlmClient
{
    /// <summary>
    /// Sends a request without blocking a thread: the library answers on its I/O thread, and the
    /// task completes (and its continuations run) on the thread pool.
    /// Cancelling the token cancels the transfer (an <see cref="OperationCanceledException"/>).
    /// </summary>
    public Task<ChatResponse> ChatAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        var op = new ChatOp<ChatResponse>(this, _handle, cancellationToken, &ParseResponse);
        try { StartChat(SerializePooled(request), op); }
        catch (Exception ex) { return op.Failed(ex); } // as an async method: errors go to the task
        return op.Task;
    }

    /// <summary>As <see cref="ChatAsync(ChatRequest, CancellationToken)"/> with raw JSON text.</summary>
    public Task<string> ChatJsonAsync(string requestJson, CancellationToken cancellationToken = default)
    {
        var op = new ChatOp<string>(this, _handle, cancellationToken, &ResponseJson);
        try { StartChat(EncodePooled(requestJson), op); }
        catch (Exception ex) { return op.Failed(ex); }
        return op.Task;
    }
}
