using LiterLlm.Native;

namespace LiterLlm;

/// <summary>Everything the library says about a failed call, copied out of its error object.</summary>
public sealed record ErrorInfo
{
    /// <summary>The status (never <see cref="LlmStatus.Ok"/>).</summary>
    public LlmStatus Status { get; init; }
    /// <summary>The message: secrets redacted, the provider's own message where it answered.</summary>
    public string Message { get; init; } = "";
    /// <summary>The HTTP status the provider answered with, or 0.</summary>
    public int HttpStatus { get; init; }
    /// <summary>The provider's name when the call was routed to one.</summary>
    public string? Provider { get; init; }
    /// <summary>The provider's error code ("context_length_exceeded"), if it gave one.</summary>
    public string? Code { get; init; }
    /// <summary>The provider's error type ("invalid_request_error"), if it gave one.</summary>
    public string? Type { get; init; }
    /// <summary>How long the provider asked to wait before trying again, if it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
    /// <summary>The retries the call made before failing.</summary>
    public int Retries { get; init; }

    internal static unsafe ErrorInfo From(llm_error_t* e, LlmStatus fallback)
    {
        if (e == null)
            return new ErrorInfo { Status = fallback, Message = LlmStatusNames.CName(fallback) };
        var retry = NativeMethods.llm_error_retry_after_ms(e);
        var status = NativeMethods.llm_error_status(e);
        return new ErrorInfo
        {
            Status = status == LlmStatus.Ok ? fallback : status,
            Message = Utf8.Read(NativeMethods.llm_error_message(e)) ?? "",
            HttpStatus = NativeMethods.llm_error_http_status(e),
            Provider = Utf8.Read(NativeMethods.llm_error_provider(e)),
            Code = Utf8.Read(NativeMethods.llm_error_code(e)),
            Type = Utf8.Read(NativeMethods.llm_error_type(e)),
            RetryAfter = retry < 0 ? null : TimeSpan.FromMilliseconds(retry),
            Retries = NativeMethods.llm_error_retries(e),
        };
    }

    /// <summary>Copies and frees an owned error object.</summary>
    internal static unsafe ErrorInfo Take(llm_error_t* e, LlmStatus status)
    {
        try { return From(e, status); }
        finally { NativeMethods.llm_error_free(e); }
    }
}

/// <summary>The base of every error the library reports; the subclass names the kind.</summary>
public partial class LiterLlmException : Exception
{
    /// <summary>Everything the library said about the failure.</summary>
    public ErrorInfo Info { get; }
    /// <summary>The status of the failed call.</summary>
    public LlmStatus Status => Info.Status;
    /// <summary>The HTTP status the provider answered with, or 0.</summary>
    public int HttpStatus => Info.HttpStatus;
    /// <summary>The provider's name when the call was routed to one.</summary>
    public string? Provider => Info.Provider;
    /// <summary>The provider's error code, if it gave one.</summary>
    public string? Code => Info.Code;
    /// <summary>The provider's error type, if it gave one.</summary>
    public string? Type => Info.Type;
    /// <summary>How long the provider asked to wait, if it said.</summary>
    public TimeSpan? RetryAfter => Info.RetryAfter;

    internal LiterLlmException(ErrorInfo info) : base(info.Message) => Info = info;

    /// <summary>Throws the exception for a failed `_e` call, freeing its error object.</summary>
    internal static unsafe void Check(LlmStatus status, llm_error_t* error)
    {
        if (status != LlmStatus.Ok)
            throw Create(ErrorInfo.Take(error, status));
        if (error != null)
            NativeMethods.llm_error_free(error);
    }
}
