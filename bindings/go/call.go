package literllm

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"unsafe"
)

// Response is the answer of Call: the endpoint's answer in OpenAI's shape
// (plus "provider" and "stats") as JSON, the bytes of a binary answer
// (audio.speech, files.content) and the vectors of an embeddings answer.
// It holds copies: nothing of it refers to the library's memory.
type Response struct {
	// JSON is the answer's JSON text.
	JSON        json.RawMessage
	bytes       []byte
	contentType string
	vectors     []float32
	count, dims int
}

// Decode unmarshals the answer's JSON into v.
func (r *Response) Decode(v any) error { return json.Unmarshal(r.JSON, v) }

// Bytes gives a binary answer's bytes; nil for a JSON answer.
func (r *Response) Bytes() []byte { return r.bytes }

// ContentType gives a binary answer's Content-Type; "" for a JSON answer.
func (r *Response) ContentType() string { return r.contentType }

// Embeddings gives an embeddings answer's vectors in input order (slices of
// one array, read from the library without parsing JSON); nil when the answer
// holds no vectors.
func (r *Response) Embeddings() [][]float32 {
	if r.count == 0 {
		return nil
	}
	out := make([][]float32, r.count)
	for i := range out {
		out[i] = r.vectors[i*r.dims : (i+1)*r.dims : (i+1)*r.dims]
	}
	return out
}

// EmbeddingsFlat gives the vectors as one row-major array of count vectors
// of dimensions floats each.
func (r *Response) EmbeddingsFlat() (data []float32, count, dimensions int) {
	return r.vectors, r.count, r.dims
}

// Call calls any endpoint of llm_call ("embeddings", "models",
// "audio.speech", "audio.transcriptions", "files.create", ...). req is the
// endpoint's request in OpenAI's shape: a value json.Marshal takes, or JSON
// text as json.RawMessage or []byte (nil: {}). uploads are the buffers the
// request refers to as {"data": index, "filename": ...}; they are copied to C
// memory for the call, so the caller may reuse them as soon as Call returns.
// Cancelling ctx cancels the transfer (as Chat).
func (c *Client) Call(ctx context.Context, endpoint string, req any, uploads ...[]byte) (*Response, error) {
	b, err := callRequestJSON(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.callRaw(ctx, endpoint, b, uploads)
	if err != nil {
		return nil, err
	}
	return callResponseFromC(resp)
}

// PreviewCall gives what Call would send, without sending it (multipart
// uploads as "parts"); credentials are "[REDACTED]".
func (c *Client) PreviewCall(endpoint string, req any, uploads ...[]byte) (json.RawMessage, error) {
	b, err := callRequestJSON(req)
	if err != nil {
		return nil, err
	}
	creq, err := cBytes("request", b)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(creq))
	cend, err := cString("endpoint", endpoint)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cend))
	up := newCUploads(uploads)
	defer up.free()
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	var out *C.char
	var e *C.llm_error_t
	st := llm_preview_call_e(p, cend, creq, up.data, up.sizes, up.count, &out, &e)
	c.release()
	if st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	return json.RawMessage(takeString(out)), nil
}

func callRequestJSON(req any) ([]byte, error) {
	switch v := req.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	return json.Marshal(req)
}

// cUploads is a copy of the upload buffers in C memory (the library reads
// them until the call ends, which may be after a goroutine moved on: Go
// memory must not be held by C past a cgo call).
type cUploads struct {
	data  *unsafe.Pointer
	sizes *C.size_t
	count C.size_t
	bufs  []unsafe.Pointer
}

func newCUploads(uploads [][]byte) *cUploads {
	u := &cUploads{}
	n := len(uploads)
	if n == 0 {
		return u
	}
	u.data = (*unsafe.Pointer)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	u.sizes = (*C.size_t)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.size_t(0)))))
	ptrs := unsafe.Slice(u.data, n)
	sizes := unsafe.Slice(u.sizes, n)
	for i, b := range uploads {
		p := C.malloc(C.size_t(len(b) + 1)) // +1: a valid pointer for an empty buffer
		copy(unsafe.Slice((*byte)(p), len(b)), b)
		ptrs[i] = p
		sizes[i] = C.size_t(len(b))
		u.bufs = append(u.bufs, p)
	}
	u.count = C.size_t(n)
	return u
}

func (u *cUploads) free() {
	for _, p := range u.bufs {
		C.free(p)
	}
	C.free(unsafe.Pointer(u.data))
	C.free(unsafe.Pointer(u.sizes))
	*u = cUploads{}
}

func (c *Client) callRaw(ctx context.Context, endpoint string, requestJSON []byte, uploads [][]byte) (*C.llm_response_t, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Kind: ErrCancelled, Message: err.Error(), RetryAfter: -1, cause: err}
	}
	creq, err := cBytes("request", requestJSON)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(creq))
	cend, err := cString("endpoint", endpoint)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cend))
	up := newCUploads(uploads)
	defer up.free() // after the call ended: both paths below wait for it
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	var out *C.llm_response_t
	err = c.blocking(ctx, func(tok *C.llm_cancel_t, e **C.llm_error_t) C.llm_status {
		return llm_call_cancellable_e(p, cend, creq, up.data, up.sizes, up.count, tok, &out, e)
	})
	return out, err
}

// callResponseFromC copies what a response holds and frees it.
func callResponseFromC(resp *C.llm_response_t) (*Response, error) {
	defer llm_response_free(resp)
	js := C.lgo_response_json(resp)
	if js.p == nil {
		return nil, &Error{Kind: ErrOutOfMemory, Message: "llm_response_json: out of memory", RetryAfter: -1}
	}
	r := &Response{JSON: C.GoBytes(unsafe.Pointer(js.p), C.int(js.n))}
	var n C.size_t
	if b := llm_response_bytes(resp, &n); b != nil {
		r.bytes = C.GoBytes(b, C.int(n))
		r.contentType = goStringOrEmpty(llm_response_content_type(resp))
	}
	var count, dims C.size_t
	if v := llm_response_embeddings(resp, &count, &dims); v != nil && count > 0 {
		src := unsafe.Slice((*float32)(unsafe.Pointer(v)), int(count*dims))
		r.vectors = make([]float32, len(src))
		copy(r.vectors, src)
		r.count, r.dims = int(count), int(dims)
	}
	return r, nil
}

// Embed gives the embeddings of inputs, one vector per input in input
// order. model is "provider/model" as in Chat ("" for the client's default).
func (c *Client) Embed(ctx context.Context, model string, inputs ...string) ([][]float32, error) {
	req := map[string]any{"input": inputs}
	if model != "" {
		req["model"] = model
	}
	r, err := c.Call(ctx, "embeddings", req)
	if err != nil {
		return nil, err
	}
	return r.Embeddings(), nil
}

// Model is one entry of a provider's model list.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object,omitempty"`
	Created int64  `json:"created,omitempty"`
	OwnedBy string `json:"owned_by,omitempty"`
}

// Models lists a provider's models ("" for the client's default provider).
func (c *Client) Models(ctx context.Context, provider string) ([]Model, error) {
	req := map[string]any{}
	if provider != "" {
		req["provider"] = provider
	}
	r, err := c.Call(ctx, "models", req)
	if err != nil {
		return nil, err
	}
	var list struct {
		Data []Model `json:"data"`
	}
	if err := r.Decode(&list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

// SpeechRequest is an audio.speech request.
type SpeechRequest struct {
	Model          string  `json:"model,omitempty"`
	Input          string  `json:"input"`
	Voice          string  `json:"voice,omitempty"`
	ResponseFormat string  `json:"response_format,omitempty"`
	Speed          float64 `json:"speed,omitempty"`
}

// Speech gives the audio for req.Input and its Content-Type.
func (c *Client) Speech(ctx context.Context, req *SpeechRequest) (audio []byte, contentType string, err error) {
	r, err := c.Call(ctx, "audio.speech", req)
	if err != nil {
		return nil, "", err
	}
	return r.Bytes(), r.ContentType(), nil
}

// Transcription is an audio.transcriptions answer (its "text"; the whole
// answer in Raw).
type Transcription struct {
	Text string          `json:"text"`
	Raw  json.RawMessage `json:"-"`
}

// Transcribe gives the text of audio (a file's bytes, named filename: its
// extension gives the type). fields adds request fields ("language", ...).
func (c *Client) Transcribe(ctx context.Context, model string, audio []byte, filename string, fields map[string]any) (*Transcription, error) {
	return c.transcribe(ctx, model, map[string]any{"data": 0, "filename": filename}, fields, [][]byte{audio})
}

// TranscribeFile gives the text of the audio file at path (read as it is sent).
func (c *Client) TranscribeFile(ctx context.Context, model, path string, fields map[string]any) (*Transcription, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return c.transcribe(ctx, model, map[string]any{"path": path, "filename": filepath.Base(path)}, fields, nil)
}

func (c *Client) transcribe(ctx context.Context, model string, file map[string]any, fields map[string]any, uploads [][]byte) (*Transcription, error) {
	req := map[string]any{}
	for k, v := range fields {
		req[k] = v
	}
	req["file"] = file
	if model != "" {
		req["model"] = model
	}
	r, err := c.Call(ctx, "audio.transcriptions", req, uploads...)
	if err != nil {
		return nil, err
	}
	t := &Transcription{Raw: r.JSON}
	if err := r.Decode(t); err != nil {
		return nil, err
	}
	return t, nil
}
