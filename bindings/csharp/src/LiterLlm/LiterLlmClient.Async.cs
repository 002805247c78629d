namespace LiterLlm;

// The async methods live in a part without `unsafe` (await is not allowed in an unsafe context).
public sealed partial class LiterLlmClient
{
    /// <summary>
    /// Sends a request without blocking a thread: the library answers on its I/O thread.
    /// Cancelling the token cancels the transfer (an <see cref="OperationCanceledException"/>).
    /// </summary>
    public async Task<ChatResponse> ChatAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        using var response = await StartChat(Serialize(request), cancellationToken).ConfigureAwait(false);
        return ParseResponse(response);
    }

    /// <summary>As <see cref="ChatAsync(ChatRequest, CancellationToken)"/> with raw JSON text.</summary>
    public async Task<string> ChatJsonAsync(string requestJson, CancellationToken cancellationToken = default)
    {
        using var response = await StartChat(Encode(requestJson), cancellationToken).ConfigureAwait(false);
        return ResponseJson(response);
    }
}
