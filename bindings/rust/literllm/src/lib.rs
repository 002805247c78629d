//! Safe Rust binding of libliterllm: one client for every major LLM provider,
//! requests and answers in the OpenAI chat-completions shape.
//!
//! ```no_run
//! let client = literllm::Client::new(&serde_json::json!({"max_retries": 0}))?;
//! let answer = client.chat(&literllm::ChatRequest::new("openai/gpt-4o-mini", "Hello"))?;
//! println!("{}", answer.text().unwrap_or(""));
//! # Ok::<(), literllm::Error>(())
//! ```
//!
//! `unsafe` lives in one private module (`ffi`), which uses the `_e` forms
//! of the C API so that errors are read in the call that failed.
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]

mod call;
mod error;
mod ffi;
mod models;

pub use call::{CallAsyncStream, CallFuture, CallStream, Model, Response, SpeechRequest};
pub use error::{Error, ErrorInfo, Status};
pub use models::*;

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::stream::Stream as FuturesStream;

/// The library's version ("0.1.0").
pub fn version() -> String {
    ffi::version()
}

/// The library's version as MAJOR*10000 + MINOR*100 + PATCH.
pub fn version_number() -> u32 {
    ffi::version_number()
}

/// Initializes the library now (it also does so on first use).
pub fn init() -> Result<(), Error> {
    ffi::init()
}

/// Registers an OpenAI-compatible provider for every client made afterwards.
pub fn register_provider_global(provider: &serde_json::Value) -> Result<(), Error> {
    ffi::ClientPtr::register_provider(None, &provider.to_string())
}

/// Removes a globally registered provider.
pub fn unregister_provider_global(name: &str) -> Result<(), Error> {
    ffi::ClientPtr::unregister_provider(None, name)
}

/// The global provider table.
pub fn providers_global() -> Result<Vec<ProviderInfo>, Error> {
    let s = ffi::ClientPtr::providers_json(None)?;
    serde_json::from_str(&s).map_err(|e| Error::decode("providers", &e))
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::decode("request", &e))
}

fn decode_response(json: String) -> Result<ChatResponse, Error> {
    serde_json::from_str(&json).map_err(|e| Error::decode("response", &e))
}

fn keep_json(json: String) -> Result<String, Error> {
    Ok(json)
}

fn response_from(r: &ffi::ResponsePtr) -> Result<ChatResponse, Error> {
    let json = r.json()?;
    serde_json::from_str(&json).map_err(|e| Error::decode("response", &e))
}

fn chunk_from(s: &str) -> Result<ChatChunk, Error> {
    serde_json::from_str(s).map_err(|e| Error::decode("chunk", &e))
}

/// A client: owns the library's connection pool and I/O thread. Cheap to
/// clone (shared); `Send + Sync`; freed when the last clone and the last
/// request or stream using it are dropped.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ffi::ClientPtr>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client from a JSON config (see llm_client_new for the fields).
    pub fn new(config: &serde_json::Value) -> Result<Client, Error> {
        Client::from_json(&config.to_string())
    }

    /// A client from JSON text ("" for all defaults).
    pub fn from_json(config_json: &str) -> Result<Client, Error> {
        Ok(Client { inner: Arc::new(ffi::ClientPtr::new(config_json)?) })
    }

    /// A client from a config file: TOML when the path ends in ".toml", else JSON.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Client, Error> {
        let p = path.as_ref().to_str().ok_or_else(|| {
            Error::from_info(ErrorInfo::local(Status::InvalidArgument, "the path is not UTF-8".into()))
        })?;
        Ok(Client { inner: Arc::new(ffi::ClientPtr::from_file(p)?) })
    }

    /// Sends a chat request and waits for the answer (blocks the thread).
    pub fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let r = self.inner.chat(&to_json(request)?, None)?;
        response_from(&r)
    }

    /// As chat, with the request and the answer as JSON text.
    pub fn chat_json(&self, request_json: &str) -> Result<String, Error> {
        self.inner.chat(request_json, None)?.json()
    }

    /// As chat, ended by `cancel` when another thread triggers it (the error
    /// is then `Status::Cancelled`). The call still runs on this thread.
    pub fn chat_cancellable(&self, request: &ChatRequest, cancel: &CancelToken) -> Result<ChatResponse, Error> {
        let r = self.inner.chat(&to_json(request)?, Some(&cancel.inner))?;
        response_from(&r)
    }

    /// As chat_cancellable, with the request and the answer as JSON text.
    pub fn chat_json_cancellable(&self, request_json: &str, cancel: &CancelToken) -> Result<String, Error> {
        self.inner.chat(request_json, Some(&cancel.inner))?.json()
    }

    /// Starts a streamed chat; the Stream yields chunks as they arrive.
    pub fn stream(&self, request: &ChatRequest) -> Result<Stream, Error> {
        self.stream_json(&to_json(request)?)
    }

    /// As stream, with the request as JSON text.
    pub fn stream_json(&self, request_json: &str) -> Result<Stream, Error> {
        let s = self.inner.stream(request_json)?;
        Ok(Stream { inner: Arc::new(s), _client: self.inner.clone(), done: false })
    }

    /// What chat (or stream, with `stream = true`) would send, the key redacted.
    pub fn preview(&self, request: &ChatRequest, stream: bool) -> Result<Preview, Error> {
        let s = self.inner.preview(&to_json(request)?, stream)?;
        serde_json::from_str(&s).map_err(|e| Error::decode("preview", &e))
    }

    /// The providers this client knows, registered ones first.
    pub fn providers(&self) -> Result<Vec<ProviderInfo>, Error> {
        let s = ffi::ClientPtr::providers_json(Some(&self.inner))?;
        serde_json::from_str(&s).map_err(|e| Error::decode("providers", &e))
    }

    /// Registers an OpenAI-compatible provider for this client.
    pub fn register_provider(&self, provider: &serde_json::Value) -> Result<(), Error> {
        ffi::ClientPtr::register_provider(Some(&self.inner), &provider.to_string())
    }

    /// Removes a provider registered on this client.
    pub fn unregister_provider(&self, name: &str) -> Result<(), Error> {
        ffi::ClientPtr::unregister_provider(Some(&self.inner), name)
    }

    /// The async form of chat, on the library's callback API: no thread is
    /// blocked. Dropping the future cancels the request.
    pub fn chat_async(&self, request: &ChatRequest) -> ChatFuture<ChatResponse> {
        match to_json(request) {
            Ok(j) => self.start_async(&j, decode_response),
            Err(e) => ChatFuture::failed(self.inner.clone(), e, decode_response),
        }
    }

    /// As chat_async, with the request and the answer as JSON text.
    pub fn chat_async_json(&self, request_json: &str) -> ChatFuture<String> {
        self.start_async(request_json, keep_json)
    }

    fn start_async<T>(&self, request_json: &str, decode: fn(String) -> Result<T, Error>) -> ChatFuture<T> {
        let (tx, rx) = oneshot::channel();
        // On the I/O thread: copy the JSON text and free the response there
        // (where it was made); decoding happens in poll.
        let on_done = move |r: Result<ffi::ResponsePtr, Error>| {
            let _ = tx.send(r.and_then(|p| p.json()));
        };
        match self.inner.chat_async(request_json, on_done) {
            Ok(id) => ChatFuture { rx: Some(rx), early: None, client: self.inner.clone(), id, done: false, decode },
            Err(e) => ChatFuture::failed(self.inner.clone(), e, decode),
        }
    }

    /// A streamed chat as a `futures::Stream` of chunks, on the callback
    /// API. Dropping it cancels the request.
    pub fn stream_async(&self, request: &ChatRequest) -> Result<AsyncStream, Error> {
        self.stream_async_json(&to_json(request)?)
    }

    /// As stream_async with the request as JSON text.
    pub fn stream_async_json(&self, request_json: &str) -> Result<AsyncStream, Error> {
        let (tx, rx) = mpsc::unbounded::<Event>();
        let done_tx = tx.clone();
        let on_chunk = move |c: &str| tx.unbounded_send(Event::Chunk(c.to_owned())).is_ok();
        let on_done = move |r: Result<ffi::ResponsePtr, Error>| {
            let _ = done_tx.unbounded_send(Event::Done(r.and_then(|p| p.json())));
        };
        let id = self.inner.stream_async(request_json, on_chunk, on_done)?;
        Ok(AsyncStream { rx, client: self.inner.clone(), id, finished: false, final_response: None })
    }
}

/// A blocking stream of chunks: an `Iterator<Item = Result<ChatChunk, Error>>`
/// that ends after the last chunk or after the first error.
pub struct Stream {
    inner: Arc<ffi::StreamPtr>,
    // Keeps the client alive while the stream is.
    _client: Arc<ffi::ClientPtr>,
    done: bool,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl Stream {
    /// The next chunk as JSON text; None at the end.
    pub fn next_json(&mut self) -> Result<Option<String>, Error> {
        let r = self.inner.next();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    /// A handle that cancels this stream from any thread.
    pub fn canceller(&self) -> StreamCanceller {
        StreamCanceller { inner: self.inner.clone() }
    }

    /// Cancels the stream: the next call answers Error::Cancelled.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// After the end: the assembled answer (content, tool calls with their
    /// arguments joined, finish reason, usage).
    pub fn final_response(&mut self) -> Result<ChatResponse, Error> {
        let r = self.inner.final_response()?;
        response_from(&r)
    }
}

impl Iterator for Stream {
    type Item = Result<ChatChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_json() {
            Ok(Some(s)) => Some(chunk_from(&s)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Cancels a Stream from any thread; keeps the stream's memory alive.
#[derive(Clone)]
pub struct StreamCanceller {
    inner: Arc<ffi::StreamPtr>,
}

impl fmt::Debug for StreamCanceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamCanceller").finish_non_exhaustive()
    }
}

impl StreamCanceller {
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

/// The future of Client::chat_async (`T` = ChatResponse) and
/// Client::chat_async_json (`T` = String).
pub struct ChatFuture<T = ChatResponse> {
    rx: Option<oneshot::Receiver<Result<String, Error>>>,
    early: Option<Error>,
    client: Arc<ffi::ClientPtr>,
    id: u64,
    done: bool,
    decode: fn(String) -> Result<T, Error>,
}

impl<T> fmt::Debug for ChatFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatFuture").field("id", &self.id).field("done", &self.done).finish_non_exhaustive()
    }
}

impl<T> ChatFuture<T> {
    fn failed(client: Arc<ffi::ClientPtr>, e: Error, decode: fn(String) -> Result<T, Error>) -> Self {
        ChatFuture { rx: None, early: Some(e), client, id: 0, done: true, decode }
    }

    /// The library's request id (0 when the start failed).
    pub fn request_id(&self) -> u64 {
        self.id
    }

    /// A handle that cancels this request from anywhere.
    pub fn canceller(&self) -> RequestCanceller {
        RequestCanceller { client: self.client.clone(), id: self.id }
    }
}

fn lost() -> Error {
    Error::from_info(ErrorInfo::local(Status::Internal, "the done callback never ran".into()))
}

impl<T> Future for ChatFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.early.take() {
            self.done = true;
            return Poll::Ready(Err(e));
        }
        let rx = match self.rx.as_mut() {
            Some(rx) => rx,
            None => return Poll::Ready(Err(lost())),
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.done = true;
                self.rx = None;
                let decode = self.decode;
                Poll::Ready(r.unwrap_or_else(|_| Err(lost())).and_then(decode))
            }
        }
    }
}

impl<T> Drop for ChatFuture<T> {
    fn drop(&mut self) {
        if !self.done && self.id != 0 {
            let _ = self.client.cancel(self.id);
        }
    }
}

/// Ends blocking calls from another thread: give it to
/// [`Client::chat_cancellable`] (or `call_cancellable`, ...) and call
/// [`cancel`](CancelToken::cancel) from anywhere. Every call using it then
/// fails with `Status::Cancelled`, and so does any later call given it: a
/// token stays cancelled. Clones share one token; it is freed with the last
/// clone.
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<ffi::CancelPtr>,
}

impl CancelToken {
    /// A new token (fails only when memory runs out).
    pub fn new() -> Result<CancelToken, Error> {
        Ok(CancelToken { inner: Arc::new(ffi::CancelPtr::new()?) })
    }

    /// Cancels the calls using the token now and the ones given it later.
    /// Returns without waiting for them to end.
    pub fn cancel(&self) {
        self.inner.trigger();
    }

    /// Whether cancel was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_triggered()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken").field("cancelled", &self.is_cancelled()).finish()
    }
}

/// Cancels an async request from anywhere.
#[derive(Clone)]
pub struct RequestCanceller {
    client: Arc<ffi::ClientPtr>,
    id: u64,
}

impl fmt::Debug for RequestCanceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestCanceller").field("id", &self.id).finish_non_exhaustive()
    }
}

impl RequestCanceller {
    pub(crate) fn new(client: Arc<ffi::ClientPtr>, id: u64) -> Self {
        RequestCanceller { client, id }
    }

    pub fn cancel(&self) {
        let _ = self.client.cancel(self.id);
    }
}

enum Event {
    Chunk(String),
    Done(Result<String, Error>),
}

/// The `futures::Stream` of Client::stream_async: chunks, then the end (or
/// one error). After the end, final_response gives the assembled answer.
pub struct AsyncStream {
    rx: mpsc::UnboundedReceiver<Event>,
    client: Arc<ffi::ClientPtr>,
    id: u64,
    finished: bool,
    final_response: Option<ChatResponse>,
}

impl fmt::Debug for AsyncStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStream").field("id", &self.id).field("finished", &self.finished).finish_non_exhaustive()
    }
}

impl AsyncStream {
    /// A handle that cancels this stream from anywhere.
    pub fn canceller(&self) -> RequestCanceller {
        RequestCanceller { client: self.client.clone(), id: self.id }
    }

    /// The assembled answer, once the stream has ended normally.
    pub fn final_response(&self) -> Option<&ChatResponse> {
        self.final_response.as_ref()
    }
}

impl FuturesStream for AsyncStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.rx).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Event::Chunk(s))) => Poll::Ready(Some(chunk_from(&s))),
            Poll::Ready(Some(Event::Done(r))) => {
                self.finished = true;
                match r.and_then(decode_response) {
                    Ok(r) => {
                        self.final_response = Some(r);
                        Poll::Ready(None)
                    }
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(Some(Err(lost())))
            }
        }
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.client.cancel(self.id);
        }
    }
}
