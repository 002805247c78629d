//! Every endpoint beyond chat (llm_call): the generic call, its answer, and
//! typed conveniences (embeddings, models, speech, transcription).

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::stream::Stream as FuturesStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, ErrorInfo, Status};
use crate::{ffi, to_json, Client};

/// The answer of [`Client::call`]: the endpoint's answer in OpenAI's shape
/// (plus "provider" and "stats") as JSON, the bytes of a binary answer
/// (audio.speech, files.content) and the vectors of an embeddings answer.
/// Holds copies: nothing in it refers to the library's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    json: String,
    bytes: Option<Vec<u8>>,
    content_type: Option<String>,
    vectors: Vec<f32>,
    count: usize,
    dimensions: usize,
}

impl Response {
    fn from_ptr(r: &ffi::ResponsePtr) -> Result<Response, Error> {
        let json = r.json()?;
        let (bytes, content_type) = match r.bytes() {
            Some((b, ct)) => (Some(b), ct),
            None => (None, None),
        };
        let (vectors, count, dimensions) = r.embeddings().unwrap_or_default();
        Ok(Response { json, bytes, content_type, vectors, count, dimensions })
    }

    /// The answer's JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The answer's JSON, parsed.
    pub fn value(&self) -> Result<Value, Error> {
        self.decode()
    }

    /// The answer's JSON decoded into `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.json).map_err(|e| Error::decode("response", &e))
    }

    /// A binary answer's bytes; None for a JSON answer.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref()
    }

    /// The bytes, taken out of the response.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.bytes
    }

    /// A binary answer's Content-Type ("audio/mpeg", ...).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// An embeddings answer's vectors, in input order (read from the library
    /// without parsing JSON); empty when the answer holds none.
    pub fn embeddings(&self) -> Vec<&[f32]> {
        if self.count == 0 || self.dimensions == 0 {
            return Vec::new();
        }
        self.vectors.chunks_exact(self.dimensions).collect()
    }

    /// The vectors as one row-major array: (floats, count, dimensions).
    pub fn embeddings_flat(&self) -> (&[f32], usize, usize) {
        (&self.vectors, self.count, self.dimensions)
    }
}

/// One entry of a provider's model list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

#[derive(Deserialize)]
struct ModelList {
    data: Vec<Model>,
}

/// An audio.speech request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeechRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
}

fn no_bytes(endpoint: &str) -> Error {
    Error::from_info(ErrorInfo::local(Status::Serialization, format!("{endpoint}: the answer holds no bytes")))
}

impl Client {
    /// Calls any endpoint of llm_call ("embeddings", "models",
    /// "audio.speech", "audio.transcriptions", "files.create", ...) and waits
    /// for the answer (blocks the thread). `uploads` are the buffers the
    /// request refers to as `{"data": index, "filename": ...}`, borrowed for
    /// the call.
    pub fn call<T: Serialize + ?Sized>(
        &self,
        endpoint: &str,
        request: &T,
        uploads: &[&[u8]],
    ) -> Result<Response, Error> {
        self.call_json(endpoint, &to_json(request)?, uploads)
    }

    /// As call, with the request as JSON text.
    pub fn call_json(&self, endpoint: &str, request_json: &str, uploads: &[&[u8]]) -> Result<Response, Error> {
        let r = self.inner.call(endpoint, request_json, uploads, None)?;
        Response::from_ptr(&r)
    }

    /// As call, ended by `cancel` when another thread triggers it (see
    /// [`CancelToken`]).
    pub fn call_cancellable<T: Serialize + ?Sized>(
        &self,
        endpoint: &str,
        request: &T,
        uploads: &[&[u8]],
        cancel: &crate::CancelToken,
    ) -> Result<Response, Error> {
        self.call_json_cancellable(endpoint, &to_json(request)?, uploads, cancel)
    }

    /// As call_cancellable, with the request as JSON text.
    pub fn call_json_cancellable(
        &self,
        endpoint: &str,
        request_json: &str,
        uploads: &[&[u8]],
        cancel: &crate::CancelToken,
    ) -> Result<Response, Error> {
        let r = self.inner.call(endpoint, request_json, uploads, Some(&cancel.inner))?;
        Response::from_ptr(&r)
    }

    /// What call would send (multipart uploads as "parts"), the key redacted.
    pub fn preview_call<T: Serialize + ?Sized>(
        &self,
        endpoint: &str,
        request: &T,
        uploads: &[&[u8]],
    ) -> Result<Value, Error> {
        let s = self.inner.preview_call(endpoint, &to_json(request)?, uploads)?;
        serde_json::from_str(&s).map_err(|e| Error::decode("preview", &e))
    }

    /// The async form of call, on the library's callback API: no thread is
    /// blocked. The request owns `uploads` (`Vec<u8>`, `Arc<[u8]>`, ...) until
    /// it ends. Dropping the future cancels the request.
    pub fn call_async<T, U>(&self, endpoint: &str, request: &T, uploads: Vec<U>) -> CallFuture
    where
        T: Serialize + ?Sized,
        U: AsRef<[u8]> + Send + 'static,
    {
        match to_json(request) {
            Ok(j) => self.call_async_json(endpoint, &j, uploads),
            Err(e) => CallFuture::failed(self.inner.clone(), e),
        }
    }

    /// As call_async, with the request as JSON text.
    pub fn call_async_json<U>(&self, endpoint: &str, request_json: &str, uploads: Vec<U>) -> CallFuture
    where
        U: AsRef<[u8]> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // On the I/O thread: copy what the response holds and free it there.
        let on_done = move |r: Result<ffi::ResponsePtr, Error>| {
            let _ = tx.send(r.and_then(|p| Response::from_ptr(&p)));
        };
        match self.inner.call_async(endpoint, request_json, uploads, on_done) {
            Ok(id) => CallFuture { rx: Some(rx), early: None, client: self.inner.clone(), id, done: false },
            Err(e) => CallFuture::failed(self.inner.clone(), e),
        }
    }

    /// Embeddings of `inputs`, one vector per input in input order. `model`
    /// is "provider/model" as in chat (None: the client's default provider).
    pub fn embed(&self, model: Option<&str>, inputs: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let r = self.call("embeddings", &embed_request(model, inputs), &[])?;
        Ok(r.embeddings().into_iter().map(<[f32]>::to_vec).collect())
    }

    /// The async form of embed.
    pub async fn embed_async(&self, model: Option<&str>, inputs: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let r = self.call_async("embeddings", &embed_request(model, inputs), Vec::<Vec<u8>>::new()).await?;
        Ok(r.embeddings().into_iter().map(<[f32]>::to_vec).collect())
    }

    /// A provider's models (None: the client's default provider).
    pub fn models(&self, provider: Option<&str>) -> Result<Vec<Model>, Error> {
        let req = match provider {
            Some(p) => json!({ "provider": p }),
            None => json!({}),
        };
        Ok(self.call("models", &req, &[])?.decode::<ModelList>()?.data)
    }

    /// Speech for `request.input`: the audio bytes and their Content-Type.
    pub fn speech(&self, request: &SpeechRequest) -> Result<(Vec<u8>, Option<String>), Error> {
        let r = self.call("audio.speech", request, &[])?;
        let ct = r.content_type.clone();
        r.into_bytes().map(|b| (b, ct)).ok_or_else(|| no_bytes("audio.speech"))
    }

    /// The transcription (OpenAI's answer, "text" and more) of `audio`, a
    /// file's bytes named `filename` (its extension gives the type).
    /// `fields` adds request fields ("language", ...; an object or null).
    pub fn transcribe(
        &self,
        model: Option<&str>,
        audio: &[u8],
        filename: &str,
        fields: &Value,
    ) -> Result<Value, Error> {
        let req = transcribe_request(model, json!({"data": 0, "filename": filename}), fields);
        self.call("audio.transcriptions", &req, &[audio])?.value()
    }

    /// As transcribe, for the audio file at `path` (read as it is sent).
    pub fn transcribe_file(&self, model: Option<&str>, path: impl AsRef<Path>, fields: &Value) -> Result<Value, Error> {
        let p = path.as_ref().to_str().ok_or_else(|| {
            Error::from_info(ErrorInfo::local(Status::InvalidArgument, "the path is not UTF-8".into()))
        })?;
        let req = transcribe_request(model, json!({ "path": p }), fields);
        self.call("audio.transcriptions", &req, &[])?.value()
    }
}

fn embed_request(model: Option<&str>, inputs: &[&str]) -> Value {
    let mut req = json!({ "input": inputs });
    if let Some(m) = model {
        req["model"] = json!(m);
    }
    req
}

fn transcribe_request(model: Option<&str>, file: Value, fields: &Value) -> Value {
    let mut req = match fields {
        Value::Object(_) => fields.clone(),
        _ => json!({}),
    };
    req["file"] = file;
    if let Some(m) = model {
        req["model"] = json!(m);
    }
    req
}

/// The future of [`Client::call_async`].
pub struct CallFuture {
    rx: Option<oneshot::Receiver<Result<Response, Error>>>,
    early: Option<Error>,
    client: Arc<ffi::ClientPtr>,
    id: u64,
    done: bool,
}

impl fmt::Debug for CallFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFuture").field("id", &self.id).field("done", &self.done).finish_non_exhaustive()
    }
}

impl CallFuture {
    fn failed(client: Arc<ffi::ClientPtr>, e: Error) -> Self {
        CallFuture { rx: None, early: Some(e), client, id: 0, done: true }
    }

    /// The library's request id (0 when the start failed).
    pub fn request_id(&self) -> u64 {
        self.id
    }

    /// A handle that cancels this request from anywhere.
    pub fn canceller(&self) -> crate::RequestCanceller {
        crate::RequestCanceller::new(self.client.clone(), self.id)
    }
}

impl Future for CallFuture {
    type Output = Result<Response, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.early.take() {
            self.done = true;
            return Poll::Ready(Err(e));
        }
        let rx = match self.rx.as_mut() {
            Some(rx) => rx,
            None => return Poll::Ready(Err(crate::lost())),
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.done = true;
                self.rx = None;
                Poll::Ready(r.unwrap_or_else(|_| Err(crate::lost())))
            }
        }
    }
}

impl Drop for CallFuture {
    fn drop(&mut self) {
        if !self.done && self.id != 0 {
            let _ = self.client.cancel(self.id);
        }
    }
}

/// A blocking streamed call ([`Client::call_stream`]): an
/// `Iterator<Item = Result<Value, Error>>` of the endpoint's events (for
/// "responses.create" the Responses API's typed events, each with "type" and
/// "sequence_number"), ending after the last event or after the first error.
pub struct CallStream {
    inner: Arc<ffi::StreamPtr>,
    // Keeps the client alive while the stream is.
    _client: Arc<ffi::ClientPtr>,
    done: bool,
}

impl fmt::Debug for CallStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallStream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl CallStream {
    /// The next event as JSON text; None at the end.
    pub fn next_json(&mut self) -> Result<Option<String>, Error> {
        let r = self.inner.next();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    /// A handle that cancels this stream from any thread.
    pub fn canceller(&self) -> crate::StreamCanceller {
        crate::StreamCanceller { inner: self.inner.clone() }
    }

    /// Cancels the stream: the next call answers Error::Cancelled.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// After the end: the final answer, as [`Client::call`] would have given
    /// it (for "responses.create" the "response" object of
    /// response.completed, plus "provider" and "stats").
    pub fn final_response(&mut self) -> Result<Response, Error> {
        let r = self.inner.final_response()?;
        Response::from_ptr(&r)
    }
}

impl Iterator for CallStream {
    type Item = Result<Value, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_json() {
            Ok(Some(s)) => Some(serde_json::from_str(&s).map_err(|e| Error::decode("event", &e))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

enum CallEvent {
    Chunk(String),
    Done(Result<Response, Error>),
}

/// The `futures::Stream` of [`Client::call_stream_async`]: events, then the
/// end (or one error). After the end, final_response gives the final
/// answer. Dropping it before the end cancels the request.
pub struct CallAsyncStream {
    rx: mpsc::UnboundedReceiver<CallEvent>,
    client: Arc<ffi::ClientPtr>,
    id: u64,
    finished: bool,
    final_response: Option<Response>,
}

impl fmt::Debug for CallAsyncStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallAsyncStream")
            .field("id", &self.id)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl CallAsyncStream {
    /// A handle that cancels this stream from anywhere.
    pub fn canceller(&self) -> crate::RequestCanceller {
        crate::RequestCanceller::new(self.client.clone(), self.id)
    }

    /// The final answer, once the stream has ended normally.
    pub fn final_response(&self) -> Option<&Response> {
        self.final_response.as_ref()
    }
}

impl FuturesStream for CallAsyncStream {
    type Item = Result<Value, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.rx).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(CallEvent::Chunk(s))) => {
                Poll::Ready(Some(serde_json::from_str(&s).map_err(|e| Error::decode("event", &e))))
            }
            Poll::Ready(Some(CallEvent::Done(r))) => {
                self.finished = true;
                match r {
                    Ok(r) => {
                        self.final_response = Some(r);
                        Poll::Ready(None)
                    }
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(Some(Err(crate::lost())))
            }
        }
    }
}

impl Drop for CallAsyncStream {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.client.cancel(self.id);
        }
    }
}

impl Client {
    /// A streamed call (llm_call_stream): "responses.create" (OpenAI's
    /// Responses API; "stream": true may be left out) or "chat". Iterate the
    /// events (blocking), then ask final_response. The stream owns `uploads`
    /// until it is dropped.
    pub fn call_stream<T, U>(&self, endpoint: &str, request: &T, uploads: Vec<U>) -> Result<CallStream, Error>
    where
        T: Serialize + ?Sized,
        U: AsRef<[u8]> + Send + Sync + 'static,
    {
        self.call_stream_json(endpoint, &to_json(request)?, uploads)
    }

    /// As call_stream, with the request as JSON text.
    pub fn call_stream_json<U>(&self, endpoint: &str, request_json: &str, uploads: Vec<U>) -> Result<CallStream, Error>
    where
        U: AsRef<[u8]> + Send + Sync + 'static,
    {
        let s = self.inner.call_stream(endpoint, request_json, uploads)?;
        Ok(CallStream { inner: Arc::new(s), _client: self.inner.clone(), done: false })
    }

    /// The async form of call_stream, on the library's callback API: a
    /// `futures::Stream` of events; no thread is blocked. Dropping it before
    /// the end cancels the request.
    pub fn call_stream_async<T, U>(
        &self,
        endpoint: &str,
        request: &T,
        uploads: Vec<U>,
    ) -> Result<CallAsyncStream, Error>
    where
        T: Serialize + ?Sized,
        U: AsRef<[u8]> + Send + 'static,
    {
        self.call_stream_async_json(endpoint, &to_json(request)?, uploads)
    }

    /// As call_stream_async, with the request as JSON text.
    pub fn call_stream_async_json<U>(
        &self,
        endpoint: &str,
        request_json: &str,
        uploads: Vec<U>,
    ) -> Result<CallAsyncStream, Error>
    where
        U: AsRef<[u8]> + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded::<CallEvent>();
        let done_tx = tx.clone();
        let on_chunk = move |c: &str| tx.unbounded_send(CallEvent::Chunk(c.to_owned())).is_ok();
        // On the I/O thread: copy what the response holds and free it there.
        let on_done = move |r: Result<ffi::ResponsePtr, Error>| {
            let _ = done_tx.unbounded_send(CallEvent::Done(r.and_then(|p| Response::from_ptr(&p))));
        };
        let id = self.inner.call_stream_async(endpoint, request_json, uploads, on_chunk, on_done)?;
        Ok(CallAsyncStream { rx, client: self.inner.clone(), id, finished: false, final_response: None })
    }
}

/// `fields` (an object, or null for none) plus the given members; a None
/// member is left out (the provider's default).
fn with_fields(fields: &Value, members: &[(&str, Option<Value>)]) -> Value {
    let mut req = match fields {
        Value::Object(_) => fields.clone(),
        _ => json!({}),
    };
    for (k, v) in members {
        if let Some(v) = v {
            req[*k] = v.clone();
        }
    }
    req
}

fn opt(s: Option<&str>) -> Option<Value> {
    s.map(|s| json!(s))
}

/// Thin conveniences over [`Client::call`] for the other endpoint families:
/// the main fields as arguments, any others in `fields` (an object or
/// null), the answer as JSON. `provider` is a provider's name ("openai"),
/// None for the client's default; `model` is "provider/model" as in chat.
impl Client {
    /// images.generations: images for `prompt` ("n", "size", ... in fields).
    pub fn generate_image(&self, model: Option<&str>, prompt: &str, fields: &Value) -> Result<Value, Error> {
        let req = with_fields(fields, &[("model", opt(model)), ("prompt", Some(json!(prompt)))]);
        self.call("images.generations", &req, &[])?.value()
    }

    /// moderations: one result per input (`input`: a string, a list, or
    /// multimodal parts).
    pub fn moderate(&self, model: Option<&str>, input: &Value, fields: &Value) -> Result<Value, Error> {
        let req = with_fields(fields, &[("model", opt(model)), ("input", Some(input.clone()))]);
        self.call("moderations", &req, &[])?.value()
    }

    /// rerank: `documents` ordered by relevance to `query`, most relevant first.
    pub fn rerank(&self, model: Option<&str>, query: &str, documents: &[&str], fields: &Value) -> Result<Value, Error> {
        let req = with_fields(
            fields,
            &[("model", opt(model)), ("query", Some(json!(query))), ("documents", Some(json!(documents)))],
        );
        self.call("rerank", &req, &[])?.value()
    }

    /// search: web results for `query`.
    pub fn search(&self, provider: Option<&str>, query: &str, fields: &Value) -> Result<Value, Error> {
        let req = with_fields(fields, &[("provider", opt(provider)), ("query", Some(json!(query)))]);
        self.call("search", &req, &[])?.value()
    }

    /// files.create from bytes: `data` uploaded as `filename` for `purpose`
    /// ("batch", ...). The answer is the file object ("id").
    pub fn create_file(
        &self,
        provider: Option<&str>,
        purpose: &str,
        filename: &str,
        data: &[u8],
        fields: &Value,
    ) -> Result<Value, Error> {
        let file = json!({"data": 0, "filename": filename});
        let req = with_fields(
            fields,
            &[("provider", opt(provider)), ("purpose", Some(json!(purpose))), ("file", Some(file))],
        );
        self.call("files.create", &req, &[data])?.value()
    }

    /// files.create from the file at `path` (read as it is sent).
    pub fn create_file_from_path(
        &self,
        provider: Option<&str>,
        purpose: &str,
        path: impl AsRef<Path>,
        fields: &Value,
    ) -> Result<Value, Error> {
        let p = path.as_ref().to_str().ok_or_else(|| {
            Error::from_info(ErrorInfo::local(Status::InvalidArgument, "the path is not UTF-8".into()))
        })?;
        let req = with_fields(
            fields,
            &[("provider", opt(provider)), ("purpose", Some(json!(purpose))), ("file", Some(json!({ "path": p })))],
        );
        self.call("files.create", &req, &[])?.value()
    }

    /// files.retrieve: the file object of `id`.
    pub fn retrieve_file(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("files.retrieve", provider, "file_id", id)
    }

    /// files.list ("purpose", "limit", "after" in fields).
    pub fn list_files(&self, provider: Option<&str>, fields: &Value) -> Result<Value, Error> {
        self.call("files.list", &with_fields(fields, &[("provider", opt(provider))]), &[])?.value()
    }

    /// files.delete.
    pub fn delete_file(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("files.delete", provider, "file_id", id)
    }

    /// files.content: the file's bytes and their Content-Type.
    pub fn file_content(&self, provider: Option<&str>, id: &str) -> Result<(Vec<u8>, Option<String>), Error> {
        let req = with_fields(&Value::Null, &[("provider", opt(provider)), ("file_id", Some(json!(id)))]);
        let r = self.call("files.content", &req, &[])?;
        let ct = r.content_type.clone();
        r.into_bytes().map(|b| (b, ct)).ok_or_else(|| no_bytes("files.content"))
    }

    /// batches.create: a batch of the requests in the uploaded JSONL file
    /// `input_file_id` for `endpoint` ("/v1/chat/completions", ...);
    /// "completion_window" is "24h" unless fields says otherwise.
    pub fn create_batch(
        &self,
        provider: Option<&str>,
        input_file_id: &str,
        endpoint: &str,
        fields: &Value,
    ) -> Result<Value, Error> {
        let mut req = with_fields(
            fields,
            &[
                ("provider", opt(provider)),
                ("input_file_id", Some(json!(input_file_id))),
                ("endpoint", Some(json!(endpoint))),
            ],
        );
        if req.get("completion_window").is_none() {
            req["completion_window"] = json!("24h");
        }
        self.call("batches.create", &req, &[])?.value()
    }

    /// batches.retrieve: the batch object ("status", "output_file_id", ...).
    pub fn retrieve_batch(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("batches.retrieve", provider, "batch_id", id)
    }

    /// batches.list ("limit", "after" in fields).
    pub fn list_batches(&self, provider: Option<&str>, fields: &Value) -> Result<Value, Error> {
        self.call("batches.list", &with_fields(fields, &[("provider", opt(provider))]), &[])?.value()
    }

    /// batches.cancel.
    pub fn cancel_batch(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("batches.cancel", provider, "batch_id", id)
    }

    /// responses.create (OpenAI's Responses API), answered whole.
    pub fn create_response(&self, request: &Value) -> Result<Value, Error> {
        self.call("responses.create", request, &[])?.value()
    }

    /// responses.create streamed: call_stream's events, then the final response.
    pub fn stream_response(&self, request: &Value) -> Result<CallStream, Error> {
        self.call_stream("responses.create", request, Vec::<Vec<u8>>::new())
    }

    /// The async form of stream_response.
    pub fn stream_response_async(&self, request: &Value) -> Result<CallAsyncStream, Error> {
        self.call_stream_async("responses.create", request, Vec::<Vec<u8>>::new())
    }

    /// responses.retrieve: the stored response `id`.
    pub fn retrieve_response(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("responses.retrieve", provider, "response_id", id)
    }

    /// responses.cancel (a background response).
    pub fn cancel_response(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("responses.cancel", provider, "response_id", id)
    }

    /// responses.delete.
    pub fn delete_response(&self, provider: Option<&str>, id: &str) -> Result<Value, Error> {
        self.by_id("responses.delete", provider, "response_id", id)
    }

    fn by_id(&self, endpoint: &str, provider: Option<&str>, key: &str, id: &str) -> Result<Value, Error> {
        let req = with_fields(&Value::Null, &[("provider", opt(provider)), (key, Some(json!(id)))]);
        self.call(endpoint, &req, &[])?.value()
    }
}
