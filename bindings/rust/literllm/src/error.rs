//! Typed errors: one variant per llm_status.

use std::fmt;
use std::time::Duration;

/// The library's status codes (llm_status), without LLM_OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    InvalidArgument,
    Authentication,
    RateLimited,
    BadRequest,
    ContextWindowExceeded,
    ContentPolicy,
    NotFound,
    ServerError,
    ServiceUnavailable,
    Timeout,
    Streaming,
    EndpointNotSupported,
    InvalidHeader,
    Serialization,
    BudgetExceeded,
    HookRejected,
    Network,
    Cancelled,
    Internal,
    LimitExceeded,
    OutOfMemory,
    /// A status this version of the binding does not name.
    Unknown(u32),
}

impl Status {
    /// The Status of a numeric llm_status value (0, LLM_OK, gives Unknown(0)).
    pub fn from_raw(v: u32) -> Status {
        use Status::*;
        match v {
            1 => InvalidArgument,
            2 => Authentication,
            3 => RateLimited,
            4 => BadRequest,
            5 => ContextWindowExceeded,
            6 => ContentPolicy,
            7 => NotFound,
            8 => ServerError,
            9 => ServiceUnavailable,
            10 => Timeout,
            11 => Streaming,
            12 => EndpointNotSupported,
            13 => InvalidHeader,
            14 => Serialization,
            15 => BudgetExceeded,
            16 => HookRejected,
            17 => Network,
            18 => Cancelled,
            19 => Internal,
            20 => LimitExceeded,
            21 => OutOfMemory,
            other => Unknown(other),
        }
    }

    /// The numeric llm_status value.
    pub fn raw(self) -> u32 {
        use Status::*;
        match self {
            InvalidArgument => 1,
            Authentication => 2,
            RateLimited => 3,
            BadRequest => 4,
            ContextWindowExceeded => 5,
            ContentPolicy => 6,
            NotFound => 7,
            ServerError => 8,
            ServiceUnavailable => 9,
            Timeout => 10,
            Streaming => 11,
            EndpointNotSupported => 12,
            InvalidHeader => 13,
            Serialization => 14,
            BudgetExceeded => 15,
            HookRejected => 16,
            Network => 17,
            Cancelled => 18,
            Internal => 19,
            LimitExceeded => 20,
            OutOfMemory => 21,
            Unknown(v) => v,
        }
    }

    /// The header's constant name ("LLM_ERR_TIMEOUT").
    pub fn name(self) -> String {
        crate::ffi::status_name(self.raw())
    }
}

/// What the library said about a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    pub status: Status,
    /// The message (secrets redacted).
    pub message: String,
    /// The provider's HTTP status, 0 when the error did not come from an HTTP answer.
    pub http_status: u16,
    /// The provider the call was routed to, if any.
    pub provider: Option<String>,
    /// The provider's error code ("context_length_exceeded").
    pub code: Option<String>,
    /// The provider's error type ("invalid_request_error").
    pub error_type: Option<String>,
    /// Retry-After / retry-after-ms, when the provider sent one.
    pub retry_after_ms: Option<u64>,
    /// Retries made before failing.
    pub retries: u32,
}

impl ErrorInfo {
    pub(crate) fn local(status: Status, message: String) -> ErrorInfo {
        ErrorInfo {
            status,
            message,
            http_status: 0,
            provider: None,
            code: None,
            error_type: None,
            retry_after_ms: None,
            retries: 0,
        }
    }
}

/// An error from literllm: one variant per status, each with the details.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    InvalidArgument(Box<ErrorInfo>),
    Authentication(Box<ErrorInfo>),
    RateLimited(Box<ErrorInfo>),
    BadRequest(Box<ErrorInfo>),
    ContextWindowExceeded(Box<ErrorInfo>),
    ContentPolicy(Box<ErrorInfo>),
    NotFound(Box<ErrorInfo>),
    ServerError(Box<ErrorInfo>),
    ServiceUnavailable(Box<ErrorInfo>),
    Timeout(Box<ErrorInfo>),
    Streaming(Box<ErrorInfo>),
    EndpointNotSupported(Box<ErrorInfo>),
    InvalidHeader(Box<ErrorInfo>),
    Serialization(Box<ErrorInfo>),
    BudgetExceeded(Box<ErrorInfo>),
    HookRejected(Box<ErrorInfo>),
    Network(Box<ErrorInfo>),
    Cancelled(Box<ErrorInfo>),
    Internal(Box<ErrorInfo>),
    LimitExceeded(Box<ErrorInfo>),
    OutOfMemory(Box<ErrorInfo>),
    /// A status this version of the binding does not name.
    Unknown(Box<ErrorInfo>),
    /// A response the binding could not decode into its models (the JSON
    /// stays reachable through the raw forms).
    Decode(Box<ErrorInfo>),
}

impl Error {
    pub(crate) fn from_info(i: ErrorInfo) -> Error {
        use Status as S;
        let i = Box::new(i);
        match i.status {
            S::InvalidArgument => Error::InvalidArgument(i),
            S::Authentication => Error::Authentication(i),
            S::RateLimited => Error::RateLimited(i),
            S::BadRequest => Error::BadRequest(i),
            S::ContextWindowExceeded => Error::ContextWindowExceeded(i),
            S::ContentPolicy => Error::ContentPolicy(i),
            S::NotFound => Error::NotFound(i),
            S::ServerError => Error::ServerError(i),
            S::ServiceUnavailable => Error::ServiceUnavailable(i),
            S::Timeout => Error::Timeout(i),
            S::Streaming => Error::Streaming(i),
            S::EndpointNotSupported => Error::EndpointNotSupported(i),
            S::InvalidHeader => Error::InvalidHeader(i),
            S::Serialization => Error::Serialization(i),
            S::BudgetExceeded => Error::BudgetExceeded(i),
            S::HookRejected => Error::HookRejected(i),
            S::Network => Error::Network(i),
            S::Cancelled => Error::Cancelled(i),
            S::Internal => Error::Internal(i),
            S::LimitExceeded => Error::LimitExceeded(i),
            S::OutOfMemory => Error::OutOfMemory(i),
            S::Unknown(_) => Error::Unknown(i),
        }
    }

    pub(crate) fn decode(what: &str, e: &serde_json::Error) -> Error {
        Error::Decode(Box::new(ErrorInfo::local(Status::Serialization, format!("{what}: {e}"))))
    }

    /// The details shared by every variant.
    pub fn info(&self) -> &ErrorInfo {
        use Error::*;
        match self {
            InvalidArgument(i)
            | Authentication(i)
            | RateLimited(i)
            | BadRequest(i)
            | ContextWindowExceeded(i)
            | ContentPolicy(i)
            | NotFound(i)
            | ServerError(i)
            | ServiceUnavailable(i)
            | Timeout(i)
            | Streaming(i)
            | EndpointNotSupported(i)
            | InvalidHeader(i)
            | Serialization(i)
            | BudgetExceeded(i)
            | HookRejected(i)
            | Network(i)
            | Cancelled(i)
            | Internal(i)
            | LimitExceeded(i)
            | OutOfMemory(i)
            | Unknown(i)
            | Decode(i) => i,
        }
    }

    pub fn status(&self) -> Status {
        self.info().status
    }

    pub fn message(&self) -> &str {
        &self.info().message
    }

    /// The provider's HTTP status, or None when the error did not come from an HTTP answer.
    pub fn http_status(&self) -> Option<u16> {
        Some(self.info().http_status).filter(|&s| s != 0)
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.info().retry_after_ms.map(Duration::from_millis)
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.info();
        write!(f, "{}: {}", i.status.name(), i.message)
    }
}

impl std::error::Error for Error {}
