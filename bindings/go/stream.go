package literllm

/*
#include <stdlib.h>
#include <literllm.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"unsafe"
)

// Stream is a streamed chat or a streamed call (llm_stream_t; Client.Stream,
// Client.CallStream):
//
//	for s.Next() { fmt.Print(s.Chunk().Text()) }
//	if err := s.Err(); err != nil { ... }
//	s.Close()
//
// Next, Chunk, Err, Final and Close belong to one goroutine at a time; Cancel
// may be called from any goroutine at any time. Cancelling the context given
// to Client.Stream cancels the stream in the library.
type Stream struct {
	// The client the stream came from: referenced so that its finalizer
	// (which frees it, cancelling every transfer) cannot run while the stream
	// is in use. Close on the client still cancels the stream.
	client *Client
	h      *streamHandle
	ptr    *C.llm_stream_t // h.ptr, read without the lock by the owning goroutine
	ctx    context.Context
	stop   chan struct{} // closed by Close: ends the context watcher

	chunk ChatChunk
	err   error
	ended bool // the end or an error was seen
	ok    bool // the end was normal
	raw   bool // a CallStream but "chat": chunks are kept as JSON, not decoded as chat chunks
}

// Stream starts a streamed chat. The HTTP status is known at the first Next.
func (c *Client) Stream(ctx context.Context, req *ChatRequest) (*Stream, error) {
	b, err := marshalRequest(req)
	if err != nil {
		return nil, err
	}
	return c.StreamJSON(ctx, b)
}

// StreamJSON is Stream with the request as JSON text.
func (c *Client) StreamJSON(ctx context.Context, requestJSON []byte) (*Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Kind: ErrCancelled, Message: err.Error(), RetryAfter: -1, cause: err}
	}
	creq, err := cBytes("request", requestJSON)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(creq))
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	var out *C.llm_stream_t
	var e *C.llm_error_t
	st := llm_chat_stream_e(p, creq, &out, &e)
	c.release()
	if st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	return newStream(ctx, c, out, nil, false), nil
}

// CallStream starts a streamed call of llm_call_stream: "responses.create"
// (OpenAI's Responses API; "stream": true may be left out) or "chat". req and
// uploads are as Call's (the uploads are copied to C memory and kept until
// Close). Each chunk is one of the endpoint's events as JSON (ChunkJSON;
// for "responses.create" an object with "type" and "sequence_number");
// FinalResponse gives the final answer (for "responses.create" the
// "response" object of response.completed). Cancelling ctx cancels the
// stream, as for Stream.
func (c *Client) CallStream(ctx context.Context, endpoint string, req any, uploads ...[]byte) (*Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Kind: ErrCancelled, Message: err.Error(), RetryAfter: -1, cause: err}
	}
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
	p, err := c.acquire()
	if err != nil {
		up.free()
		return nil, err
	}
	var out *C.llm_stream_t
	var e *C.llm_error_t
	st := llm_call_stream_e(p, cend, creq, up.data, up.sizes, up.count, &out, &e)
	c.release()
	if st != C.LLM_OK {
		up.free()
		return nil, takeError(st, e)
	}
	return newStream(ctx, c, out, up, endpoint != "chat"), nil
}

func newStream(ctx context.Context, c *Client, out *C.llm_stream_t, up *cUploads, raw bool) *Stream {
	h := &streamHandle{ptr: out, uploads: up}
	s := &Stream{client: c, h: h, ptr: out, ctx: ctx, stop: make(chan struct{}), raw: raw}
	runtime.SetFinalizer(s, func(s *Stream) { s.Close() })
	if done := ctx.Done(); done != nil {
		// The watcher holds the handle, not the Stream, so that an abandoned
		// Stream can still be finalized.
		stop := s.stop
		go func() {
			select {
			case <-done:
				h.cancel()
			case <-stop:
			}
		}()
	}
	return s
}

// streamHandle guards the stream pointer between Cancel (any goroutine) and
// Close.
type streamHandle struct {
	mu      sync.Mutex
	ptr     *C.llm_stream_t
	uploads *cUploads // a CallStream's upload buffers, freed after the stream
}

func (h *streamHandle) cancel() {
	h.mu.Lock()
	if h.ptr != nil {
		llm_stream_cancel(h.ptr)
	}
	h.mu.Unlock()
}

// Next waits for the next chunk. It returns false at the end of the stream
// or on an error (see Err).
func (s *Stream) Next() bool {
	if s.ended {
		return false
	}
	if s.ptr == nil {
		s.ended, s.err = true, ErrClosed
		return false
	}
	var cj *C.char
	var e *C.llm_error_t
	yieldBeforeBlocking()
	st := llm_stream_next_e(s.ptr, &cj, &e)
	runtime.KeepAlive(s)
	if st != C.LLM_OK {
		s.ended = true
		err := takeError(st, e)
		if err.Kind == ErrCancelled && s.ctx.Err() != nil {
			err.cause = s.ctx.Err()
		}
		s.err = err
		return false
	}
	if cj == nil {
		s.ended, s.ok = true, true
		return false
	}
	if s.raw {
		s.chunk = ChatChunk{Raw: json.RawMessage(C.GoString(cj))}
		return true
	}
	s.chunk = ChatChunk{}
	if err := decodeChunk(C.GoString(cj), &s.chunk); err != nil {
		s.ended = true
		s.err = err
		return false
	}
	return true
}

// Chunk is the chunk the last successful Next read. It stays valid after
// later calls (it is a copy). A CallStream's chunks (but "chat"'s) are not
// decoded: only Raw is set (see ChunkJSON).
func (s *Stream) Chunk() *ChatChunk {
	c := s.chunk
	return &c
}

// ChunkJSON is the JSON text of the chunk the last successful Next read (a
// copy): for a CallStream of "responses.create", one typed event.
func (s *Stream) ChunkJSON() json.RawMessage { return s.chunk.Raw }

// Err is the stream's error, nil after a normal end.
func (s *Stream) Err() error { return s.err }

// Final gives the assembled response once Next has reported a normal end
// (content and tool calls joined, finish reason, usage). For a CallStream
// other than "chat", use FinalResponse.
func (s *Stream) Final() (*ChatResponse, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var out *C.llm_response_t
	var e *C.llm_error_t
	st := llm_stream_final_response_e(s.ptr, &out, &e)
	runtime.KeepAlive(s)
	if st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	return responseFromC(out)
}

// FinalResponse gives the final answer once Next has reported a normal end,
// as Call would have given it (for "responses.create" the Responses API's
// "response" object, plus "provider" and "stats").
func (s *Stream) FinalResponse() (*Response, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var out *C.llm_response_t
	var e *C.llm_error_t
	st := llm_stream_final_response_e(s.ptr, &out, &e)
	runtime.KeepAlive(s)
	if st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	return callResponseFromC(out)
}

// Cancel cancels the stream: a waiting or later Next ends with ErrCancelled
// unless the stream had already ended. Any goroutine, any number of times.
func (s *Stream) Cancel() { s.h.cancel() }

// Close cancels the stream if it still runs and frees it. Idempotent.
func (s *Stream) Close() error {
	s.h.mu.Lock()
	p := s.h.ptr
	up := s.h.uploads
	s.h.ptr, s.h.uploads = nil, nil
	s.h.mu.Unlock()
	s.ptr = nil
	if p != nil {
		close(s.stop)
		runtime.SetFinalizer(s, nil)
		llm_stream_free(p)
	}
	if up != nil {
		up.free()
	}
	return nil
}
