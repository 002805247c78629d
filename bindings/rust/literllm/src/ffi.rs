//! The boundary: the only module with `unsafe`. Every call uses the `_e`
//! form, so the error is an object read in the same call, never the
//! thread-local last error.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use literllm_sys as sys;

use crate::error::{Error, ErrorInfo, Status};

fn cstring(what: &str, s: &str) -> Result<CString, Error> {
    CString::new(s)
        .map_err(|_| Error::from_info(ErrorInfo::local(Status::InvalidArgument, format!("{what} holds a NUL byte"))))
}

/// Copies a borrowed C string (NULL gives None).
fn opt_string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the library hands out NUL-terminated strings valid for this call.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Reads every field of an error object (borrowed) into an owned Error.
fn read_error(e: *const sys::llm_error_t) -> Error {
    // SAFETY: each accessor accepts NULL and any live error object.
    unsafe {
        let retry = sys::llm_error_retry_after_ms(e);
        Error::from_info(ErrorInfo {
            status: Status::from_raw(sys::llm_error_status(e).0),
            message: opt_string(sys::llm_error_message(e)).unwrap_or_default(),
            http_status: sys::llm_error_http_status(e) as u16,
            provider: opt_string(sys::llm_error_provider(e)),
            code: opt_string(sys::llm_error_code(e)),
            error_type: opt_string(sys::llm_error_type(e)),
            retry_after_ms: if retry < 0 { None } else { Some(retry as u64) },
            retries: sys::llm_error_retries(e).max(0) as u32,
        })
    }
}

/// Turns a status and an owned error object into a Result, freeing the object.
fn check(status: sys::llm_status, err: *mut sys::llm_error_t) -> Result<(), Error> {
    if status == sys::LLM_OK {
        // SAFETY: NULL or an object we own.
        unsafe { sys::llm_error_free(err) };
        return Ok(());
    }
    let e = if err.is_null() {
        Error::from_info(ErrorInfo::local(Status::from_raw(status.0), String::from("(no error object)")))
    } else {
        read_error(err)
    };
    // SAFETY: we own it; NULL is a no-op.
    unsafe { sys::llm_error_free(err) };
    Err(e)
}

/// Takes an owned `char *` from the library.
fn take_string(p: *mut c_char) -> String {
    let s = opt_string(p).unwrap_or_default();
    // SAFETY: the library gave us ownership of `p`.
    unsafe { sys::llm_string_free(p) };
    s
}

pub fn version() -> String {
    // SAFETY: static storage, never fails.
    opt_string(unsafe { sys::llm_version() }).unwrap_or_default()
}

pub fn version_number() -> u32 {
    // SAFETY: never fails.
    unsafe { sys::llm_version_number() }
}

pub fn status_name(raw: u32) -> String {
    // SAFETY: any value is accepted; static storage.
    opt_string(unsafe { sys::llm_status_str(sys::llm_status(raw)) }).unwrap_or_default()
}

pub fn init() -> Result<(), Error> {
    let mut err = ptr::null_mut();
    // SAFETY: plain call with an out pointer we own.
    let st = unsafe { sys::llm_init_e(&mut err) };
    check(st, err)
}

/// An owned client handle. The library allows any number of threads on one
/// client, hence Send + Sync.
pub struct ClientPtr(NonNull<sys::llm_client_t>);

// SAFETY: the header says a client may be shared by any number of threads.
unsafe impl Send for ClientPtr {}
// SAFETY: as above.
unsafe impl Sync for ClientPtr {}

impl Drop for ClientPtr {
    fn drop(&mut self) {
        // SAFETY: we own it; Arc guarantees no other call runs now.
        unsafe { sys::llm_client_free(self.0.as_ptr()) };
    }
}

fn client_from(
    st: sys::llm_status,
    out: *mut sys::llm_client_t,
    err: *mut sys::llm_error_t,
) -> Result<ClientPtr, Error> {
    check(st, err)?;
    NonNull::new(out)
        .map(ClientPtr)
        .ok_or_else(|| Error::from_info(ErrorInfo::local(Status::Internal, "NULL client on success".into())))
}

impl ClientPtr {
    pub fn new(config_json: &str) -> Result<ClientPtr, Error> {
        let c = cstring("config", config_json)?;
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid C string and out pointers.
        let st = unsafe { sys::llm_client_new_e(c.as_ptr(), &mut out, &mut err) };
        client_from(st, out, err)
    }

    pub fn from_file(path: &str) -> Result<ClientPtr, Error> {
        let c = cstring("path", path)?;
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid C string and out pointers.
        let st = unsafe { sys::llm_client_new_from_file_e(c.as_ptr(), &mut out, &mut err) };
        client_from(st, out, err)
    }

    fn raw(&self) -> *mut sys::llm_client_t {
        self.0.as_ptr()
    }

    /// llm_chat_cancellable_e (`cancel` None: exactly llm_chat_e).
    pub fn chat(&self, request_json: &str, cancel: Option<&CancelPtr>) -> Result<ResponsePtr, Error> {
        let c = cstring("request", request_json)?;
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        let tok = cancel.map_or(ptr::null_mut(), |t| t.0.as_ptr());
        // SAFETY: live client, valid C string, a live token (borrowed for the call) or NULL, out pointers.
        let st = unsafe { sys::llm_chat_cancellable_e(self.raw(), c.as_ptr(), tok, &mut out, &mut err) };
        check(st, err)?;
        ResponsePtr::new(out)
    }

    pub fn stream(&self, request_json: &str) -> Result<StreamPtr, Error> {
        let c = cstring("request", request_json)?;
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: live client, valid C string, out pointers.
        let st = unsafe { sys::llm_chat_stream_e(self.raw(), c.as_ptr(), &mut out, &mut err) };
        check(st, err)?;
        StreamPtr::new(out, None)
    }

    /// llm_call_stream_e. The uploads go with the stream (freed after it),
    /// since the library may read them until the streamed call ends.
    pub fn call_stream<U>(&self, endpoint: &str, request_json: &str, uploads: Vec<U>) -> Result<StreamPtr, Error>
    where
        U: AsRef<[u8]> + Send + Sync + 'static,
    {
        let e = cstring("endpoint", endpoint)?;
        let c = cstring("request", request_json)?;
        // The bytes live in the Vec's heap buffer, which does not move with it.
        let (ptrs, sizes) = upload_arrays(uploads.iter().map(AsRef::as_ref));
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: live client, valid C strings; the uploads outlive the
        // stream (they are freed after llm_stream_free).
        let st = unsafe {
            sys::llm_call_stream_e(
                self.raw(),
                e.as_ptr(),
                c.as_ptr(),
                data_ptr(&ptrs),
                sizes.as_ptr(),
                ptrs.len(),
                &mut out,
                &mut err,
            )
        };
        check(st, err)?;
        let keep: Option<Box<dyn Send + Sync>> = if uploads.is_empty() { None } else { Some(Box::new(uploads)) };
        StreamPtr::new(out, keep)
    }

    /// Starts llm_call_stream_async_e: the uploads are owned by the request
    /// until the done callback ran; `on_chunk` per chunk, `on_done` once.
    pub fn call_stream_async<U, C, F>(
        &self,
        endpoint: &str,
        request_json: &str,
        uploads: Vec<U>,
        on_chunk: C,
        on_done: F,
    ) -> Result<u64, Error>
    where
        U: AsRef<[u8]> + Send + 'static,
        C: FnMut(&str) -> bool + Send + 'static,
        F: FnOnce(Result<ResponsePtr, Error>) + Send + 'static,
    {
        let e = cstring("endpoint", endpoint)?;
        let c = cstring("request", request_json)?;
        let ud = Box::into_raw(Box::new(CallStreamCallbacks { uploads, on_chunk, on_done: Some(on_done) }));
        // SAFETY: as call_async.
        let (ptrs, sizes) = upload_arrays(unsafe { &*ud }.uploads.iter().map(AsRef::as_ref));
        let (mut id, mut err) = (0u64, ptr::null_mut());
        // SAFETY: live client; `ud` stays valid until the done trampoline takes it back.
        let st = unsafe {
            sys::llm_call_stream_async_e(
                self.raw(),
                e.as_ptr(),
                c.as_ptr(),
                data_ptr(&ptrs),
                sizes.as_ptr(),
                ptrs.len(),
                Some(call_chunk_trampoline::<U, C, F>),
                Some(call_stream_done_trampoline::<U, C, F>),
                ud.cast(),
                &mut id,
                &mut err,
            )
        };
        if st != sys::LLM_OK {
            // SAFETY: no callback will run: the box is still ours.
            drop(unsafe { Box::from_raw(ud) });
        }
        check(st, err).map(|()| id)
    }

    pub fn preview(&self, request_json: &str, stream: bool) -> Result<String, Error> {
        let c = cstring("request", request_json)?;
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: live client, valid C string, out pointers.
        let st = unsafe { sys::llm_preview_request_e(self.raw(), c.as_ptr(), c_int::from(stream), &mut out, &mut err) };
        check(st, err)?;
        Ok(take_string(out))
    }

    pub fn cancel(&self, request_id: u64) -> Result<(), Error> {
        let mut err = ptr::null_mut();
        // SAFETY: live client; any id is accepted.
        let st = unsafe { sys::llm_client_cancel_e(self.raw(), request_id, &mut err) };
        check(st, err)
    }

    /// Starts llm_chat_async_e; `on_done` runs once on the I/O thread.
    pub fn chat_async<F>(&self, request_json: &str, on_done: F) -> Result<u64, Error>
    where
        F: FnOnce(Result<ResponsePtr, Error>) + Send + 'static,
    {
        let c = cstring("request", request_json)?;
        let ud = Box::into_raw(Box::new(on_done));
        let (mut id, mut err) = (0u64, ptr::null_mut());
        // SAFETY: live client; `ud` stays valid until the done trampoline takes it back.
        let st = unsafe {
            sys::llm_chat_async_e(self.raw(), c.as_ptr(), Some(done_trampoline::<F>), ud.cast(), &mut id, &mut err)
        };
        if st != sys::LLM_OK {
            // SAFETY: no callback will run: the box is still ours.
            drop(unsafe { Box::from_raw(ud) });
        }
        check(st, err).map(|()| id)
    }

    /// Starts llm_chat_stream_async_e; `on_chunk` runs per chunk and
    /// `on_done` once, both on the I/O thread.
    pub fn stream_async<C, F>(&self, request_json: &str, on_chunk: C, on_done: F) -> Result<u64, Error>
    where
        C: FnMut(&str) -> bool + Send + 'static,
        F: FnOnce(Result<ResponsePtr, Error>) + Send + 'static,
    {
        let c = cstring("request", request_json)?;
        let ud = Box::into_raw(Box::new(StreamCallbacks { on_chunk, on_done: Some(on_done) }));
        let (mut id, mut err) = (0u64, ptr::null_mut());
        // SAFETY: as chat_async.
        let st = unsafe {
            sys::llm_chat_stream_async_e(
                self.raw(),
                c.as_ptr(),
                Some(chunk_trampoline::<C, F>),
                Some(stream_done_trampoline::<C, F>),
                ud.cast(),
                &mut id,
                &mut err,
            )
        };
        if st != sys::LLM_OK {
            // SAFETY: no callback will run.
            drop(unsafe { Box::from_raw(ud) });
        }
        check(st, err).map(|()| id)
    }

    /// llm_call_cancellable_e: the uploads are borrowed for the call's duration
    /// (it blocks); `cancel` None is exactly llm_call_e.
    pub fn call(
        &self,
        endpoint: &str,
        request_json: &str,
        uploads: &[&[u8]],
        cancel: Option<&CancelPtr>,
    ) -> Result<ResponsePtr, Error> {
        let e = cstring("endpoint", endpoint)?;
        let c = cstring("request", request_json)?;
        let (ptrs, sizes) = upload_arrays(uploads.iter().copied());
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        let tok = cancel.map_or(ptr::null_mut(), |t| t.0.as_ptr());
        // SAFETY: live client, valid C strings; the arrays and the bytes they
        // point to outlive the call, which only reads them; a live token or NULL.
        let st = unsafe {
            sys::llm_call_cancellable_e(
                self.raw(),
                e.as_ptr(),
                c.as_ptr(),
                data_ptr(&ptrs),
                sizes.as_ptr(),
                ptrs.len(),
                tok,
                &mut out,
                &mut err,
            )
        };
        check(st, err)?;
        ResponsePtr::new(out)
    }

    /// llm_preview_call_e (the uploads' bytes are not read).
    pub fn preview_call(&self, endpoint: &str, request_json: &str, uploads: &[&[u8]]) -> Result<String, Error> {
        let e = cstring("endpoint", endpoint)?;
        let c = cstring("request", request_json)?;
        let (ptrs, sizes) = upload_arrays(uploads.iter().copied());
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: as call.
        let st = unsafe {
            sys::llm_preview_call_e(
                self.raw(),
                e.as_ptr(),
                c.as_ptr(),
                data_ptr(&ptrs),
                sizes.as_ptr(),
                ptrs.len(),
                &mut out,
                &mut err,
            )
        };
        check(st, err)?;
        Ok(take_string(out))
    }

    /// Starts llm_call_async_e. The uploads are owned by the request until
    /// the done callback ran (they are dropped there, after `on_done`).
    pub fn call_async<U, F>(
        &self,
        endpoint: &str,
        request_json: &str,
        uploads: Vec<U>,
        on_done: F,
    ) -> Result<u64, Error>
    where
        U: AsRef<[u8]> + Send + 'static,
        F: FnOnce(Result<ResponsePtr, Error>) + Send + 'static,
    {
        let e = cstring("endpoint", endpoint)?;
        let c = cstring("request", request_json)?;
        let ud = Box::into_raw(Box::new(CallCallbacks { uploads, on_done: Some(on_done) }));
        // SAFETY: `ud` is ours until the call starts; the uploads' bytes live in
        // the box (they do not move when the box does) until the done trampoline.
        let (ptrs, sizes) = upload_arrays(unsafe { &*ud }.uploads.iter().map(AsRef::as_ref));
        let (mut id, mut err) = (0u64, ptr::null_mut());
        // SAFETY: live client; `ud` stays valid until the done trampoline takes it back.
        let st = unsafe {
            sys::llm_call_async_e(
                self.raw(),
                e.as_ptr(),
                c.as_ptr(),
                data_ptr(&ptrs),
                sizes.as_ptr(),
                ptrs.len(),
                Some(call_done_trampoline::<U, F>),
                ud.cast(),
                &mut id,
                &mut err,
            )
        };
        if st != sys::LLM_OK {
            // SAFETY: no callback will run: the box is still ours.
            drop(unsafe { Box::from_raw(ud) });
        }
        check(st, err).map(|()| id)
    }

    pub fn providers_json(client: Option<&ClientPtr>) -> Result<String, Error> {
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        let raw = client.map_or(ptr::null_mut(), ClientPtr::raw);
        // SAFETY: NULL (global table) or a live client.
        let st = unsafe { sys::llm_providers_json_e(raw, &mut out, &mut err) };
        check(st, err)?;
        Ok(take_string(out))
    }

    pub fn register_provider(client: Option<&ClientPtr>, provider_json: &str) -> Result<(), Error> {
        let c = cstring("provider", provider_json)?;
        let mut err = ptr::null_mut();
        let raw = client.map_or(ptr::null_mut(), ClientPtr::raw);
        // SAFETY: NULL (global) or a live client; valid C string.
        let st = unsafe { sys::llm_register_provider_e(raw, c.as_ptr(), &mut err) };
        check(st, err)
    }

    pub fn unregister_provider(client: Option<&ClientPtr>, name: &str) -> Result<(), Error> {
        let c = cstring("name", name)?;
        let mut err = ptr::null_mut();
        let raw = client.map_or(ptr::null_mut(), ClientPtr::raw);
        // SAFETY: NULL (global) or a live client; valid C string.
        let st = unsafe { sys::llm_unregister_provider_e(raw, c.as_ptr(), &mut err) };
        check(st, err)
    }
}

/// The pointer and size arrays of a call's uploads (empty: none).
fn upload_arrays<'a>(uploads: impl Iterator<Item = &'a [u8]>) -> (Vec<*const c_void>, Vec<usize>) {
    uploads.map(|b| (b.as_ptr().cast::<c_void>(), b.len())).unzip()
}

/// NULL for no uploads, as the header asks.
fn data_ptr(ptrs: &[*const c_void]) -> *const *const c_void {
    if ptrs.is_empty() {
        ptr::null()
    } else {
        ptrs.as_ptr()
    }
}

/// What an async call owns until its done callback: its uploads and on_done.
struct CallCallbacks<U, F> {
    uploads: Vec<U>,
    on_done: Option<F>,
}

unsafe extern "C" fn call_done_trampoline<U, F: FnOnce(Result<ResponsePtr, Error>)>(
    status: sys::llm_status,
    response: *mut sys::llm_response_t,
    error: *const sys::llm_error_t,
    user_data: *mut c_void,
) {
    // SAFETY: the Box made in call_async; the done callback runs exactly once.
    let mut cbs = unsafe { Box::from_raw(user_data.cast::<CallCallbacks<U, F>>()) };
    let r = done_result(status, response, error);
    if let Some(f) = cbs.on_done.take() {
        let _ = catch_unwind(AssertUnwindSafe(move || f(r)));
    }
    // The uploads go with `cbs`, now that the library is done with them.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(cbs)));
}

/// The closures of a streamed async call: on_chunk gets each chunk's JSON
/// (false cancels), on_done the final response or the error.
struct StreamCallbacks<C, F> {
    on_chunk: C,
    on_done: Option<F>,
}

fn done_result(
    status: sys::llm_status,
    response: *mut sys::llm_response_t,
    error: *const sys::llm_error_t,
) -> Result<ResponsePtr, Error> {
    if status == sys::LLM_OK {
        ResponsePtr::new(response)
    } else {
        if !response.is_null() {
            // SAFETY: ownership passed to us.
            unsafe { sys::llm_response_free(response) };
        }
        if error.is_null() {
            Err(Error::from_info(ErrorInfo::local(Status::from_raw(status.0), String::new())))
        } else {
            Err(read_error(error))
        }
    }
}

unsafe extern "C" fn done_trampoline<F: FnOnce(Result<ResponsePtr, Error>)>(
    status: sys::llm_status,
    response: *mut sys::llm_response_t,
    error: *const sys::llm_error_t,
    user_data: *mut c_void,
) {
    // SAFETY: `user_data` is the Box made in chat_async; the done callback runs exactly once.
    let f = unsafe { Box::from_raw(user_data.cast::<F>()) };
    let r = done_result(status, response, error);
    // A panic must not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(move || f(r)));
}

unsafe extern "C" fn chunk_trampoline<C: FnMut(&str) -> bool, F>(
    chunk_json: *const c_char,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: the box lives until the done trampoline; chunks and done do not overlap.
    let cbs = unsafe { &mut *user_data.cast::<StreamCallbacks<C, F>>() };
    // SAFETY: borrowed for this call.
    let chunk = unsafe { CStr::from_ptr(chunk_json) }.to_string_lossy();
    match catch_unwind(AssertUnwindSafe(|| (cbs.on_chunk)(&chunk))) {
        Ok(true) => 0,
        _ => 1,
    }
}

unsafe extern "C" fn stream_done_trampoline<C, F: FnOnce(Result<ResponsePtr, Error>)>(
    status: sys::llm_status,
    response: *mut sys::llm_response_t,
    error: *const sys::llm_error_t,
    user_data: *mut c_void,
) {
    // SAFETY: the Box made in stream_async; done runs exactly once, last.
    let mut cbs = unsafe { Box::from_raw(user_data.cast::<StreamCallbacks<C, F>>()) };
    let r = done_result(status, response, error);
    if let Some(f) = cbs.on_done.take() {
        let _ = catch_unwind(AssertUnwindSafe(move || f(r)));
    }
}

/// What a streamed async call owns until its done callback.
struct CallStreamCallbacks<U, C, F> {
    uploads: Vec<U>,
    on_chunk: C,
    on_done: Option<F>,
}

unsafe extern "C" fn call_chunk_trampoline<U, C: FnMut(&str) -> bool, F>(
    chunk_json: *const c_char,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: the box lives until the done trampoline; chunks and done do not overlap.
    let cbs = unsafe { &mut *user_data.cast::<CallStreamCallbacks<U, C, F>>() };
    // SAFETY: borrowed for this call.
    let chunk = unsafe { CStr::from_ptr(chunk_json) }.to_string_lossy();
    match catch_unwind(AssertUnwindSafe(|| (cbs.on_chunk)(&chunk))) {
        Ok(true) => 0,
        _ => 1,
    }
}

unsafe extern "C" fn call_stream_done_trampoline<U, C, F: FnOnce(Result<ResponsePtr, Error>)>(
    status: sys::llm_status,
    response: *mut sys::llm_response_t,
    error: *const sys::llm_error_t,
    user_data: *mut c_void,
) {
    // SAFETY: the Box made in call_stream_async; done runs exactly once, last.
    let mut cbs = unsafe { Box::from_raw(user_data.cast::<CallStreamCallbacks<U, C, F>>()) };
    let r = done_result(status, response, error);
    if let Some(f) = cbs.on_done.take() {
        let _ = catch_unwind(AssertUnwindSafe(move || f(r)));
    }
    // The uploads go with `cbs`, now that the library is done with them.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(cbs)));
}

/// An owned response. Used by one thread at a time (Send, not Sync).
/// An owned llm_cancel_t.
pub struct CancelPtr(NonNull<sys::llm_cancel_t>);

// SAFETY: every function of a cancel token may be called from any thread.
unsafe impl Send for CancelPtr {}
// SAFETY: as above (trigger and is_triggered take it shared).
unsafe impl Sync for CancelPtr {}

impl CancelPtr {
    pub fn new() -> Result<CancelPtr, Error> {
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid out pointers.
        let st = unsafe { sys::llm_cancel_new_e(&mut out, &mut err) };
        check(st, err)?;
        NonNull::new(out).map(CancelPtr).ok_or_else(|| {
            Error::from_info(ErrorInfo::local(Status::Internal, String::from("llm_cancel_new gave NULL")))
        })
    }

    pub fn trigger(&self) {
        // SAFETY: a live token; any thread. It fails only for NULL.
        unsafe { sys::llm_cancel_trigger(self.0.as_ptr()) };
    }

    pub fn is_triggered(&self) -> bool {
        // SAFETY: a live token.
        unsafe { sys::llm_cancel_is_triggered(self.0.as_ptr()) != 0 }
    }
}

impl Drop for CancelPtr {
    fn drop(&mut self) {
        // SAFETY: we own it; a call using it borrows it, so none runs now.
        unsafe { sys::llm_cancel_free(self.0.as_ptr()) };
    }
}

pub struct ResponsePtr(NonNull<sys::llm_response_t>);

// SAFETY: a response may move between threads; it is used by one at a time.
unsafe impl Send for ResponsePtr {}

impl Drop for ResponsePtr {
    fn drop(&mut self) {
        // SAFETY: we own it.
        unsafe { sys::llm_response_free(self.0.as_ptr()) };
    }
}

impl ResponsePtr {
    fn new(p: *mut sys::llm_response_t) -> Result<ResponsePtr, Error> {
        NonNull::new(p)
            .map(ResponsePtr)
            .ok_or_else(|| Error::from_info(ErrorInfo::local(Status::Internal, "NULL response on success".into())))
    }

    /// The whole response as JSON.
    pub fn json(&self) -> Result<String, Error> {
        // SAFETY: live response; borrowed result copied at once.
        let p = unsafe { sys::llm_response_json(self.0.as_ptr()) };
        opt_string(p).ok_or_else(|| {
            Error::from_info(ErrorInfo::local(Status::OutOfMemory, "llm_response_json: out of memory".into()))
        })
    }
}

impl ResponsePtr {
    /// A binary answer's bytes (copied) and Content-Type; None for a JSON answer.
    pub fn bytes(&self) -> Option<(Vec<u8>, Option<String>)> {
        let mut n = 0usize;
        // SAFETY: live response; the borrowed bytes are copied at once.
        let p = unsafe { sys::llm_response_bytes(self.0.as_ptr(), &mut n) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the library says `n` bytes at `p`, valid while the response is.
        let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) }.to_vec();
        // SAFETY: live response.
        let ct = opt_string(unsafe { sys::llm_response_content_type(self.0.as_ptr()) });
        Some((bytes, ct))
    }

    /// An embeddings answer's vectors (copied), row-major: (floats, count, dimensions).
    pub fn embeddings(&self) -> Option<(Vec<f32>, usize, usize)> {
        let (mut count, mut dims) = (0usize, 0usize);
        // SAFETY: live response.
        let p = unsafe { sys::llm_response_embeddings(self.0.as_ptr(), &mut count, &mut dims) };
        if p.is_null() {
            return None;
        }
        // SAFETY: count * dims floats at `p`, valid while the response is.
        let v = unsafe { std::slice::from_raw_parts(p, count * dims) }.to_vec();
        Some((v, count, dims))
    }
}

/// An owned stream. next/final_response: one thread at a time (the safe
/// layer enforces it through &mut on Stream);
/// cancel takes &self and may run on any thread at any time.
pub struct StreamPtr {
    ptr: NonNull<sys::llm_stream_t>,
    // What the library may read until the stream is freed (a streamed call's
    // uploads); dropped after llm_stream_free.
    _keep: Option<Box<dyn Send + Sync>>,
}

// SAFETY: a stream may move between threads.
unsafe impl Send for StreamPtr {}
// SAFETY: the only &self operation is llm_stream_cancel, safe from any thread.
unsafe impl Sync for StreamPtr {}

impl Drop for StreamPtr {
    fn drop(&mut self) {
        // SAFETY: we own it; no other reference remains.
        unsafe { sys::llm_stream_free(self.ptr.as_ptr()) };
    }
}

impl StreamPtr {
    fn new(p: *mut sys::llm_stream_t, keep: Option<Box<dyn Send + Sync>>) -> Result<StreamPtr, Error> {
        NonNull::new(p)
            .map(|ptr| StreamPtr { ptr, _keep: keep })
            .ok_or_else(|| Error::from_info(ErrorInfo::local(Status::Internal, "NULL stream on success".into())))
    }

    /// The next chunk's JSON, or None at the end.
    pub fn next(&self) -> Result<Option<String>, Error> {
        let (mut chunk, mut err) = (ptr::null(), ptr::null_mut());
        // SAFETY: live stream, exclusive for next.
        let st = unsafe { sys::llm_stream_next_e(self.ptr.as_ptr(), &mut chunk, &mut err) };
        check(st, err)?;
        Ok(opt_string(chunk))
    }

    pub fn cancel(&self) {
        // SAFETY: any thread, any time, while the stream is alive.
        unsafe { sys::llm_stream_cancel(self.ptr.as_ptr()) };
    }

    pub fn final_response(&self) -> Result<ResponsePtr, Error> {
        let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: live stream.
        let st = unsafe { sys::llm_stream_final_response_e(self.ptr.as_ptr(), &mut out, &mut err) };
        check(st, err)?;
        ResponsePtr::new(out)
    }
}
