//! Every endpoint beyond chat (llm_call): the generic call, its answer, and
//! typed conveniences (embeddings, models, speech, transcription).

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::channel::oneshot;
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
        let r = self.inner.call(endpoint, request_json, uploads)?;
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
