// Package literllm is the Go binding of libliterllm: one client for every
// major LLM provider, over the library's C API (include/literllm.h).
//
// Every call uses the C API's `_e` forms, so an error is read from the object
// the failing call hands back, never from thread-local state (a goroutine may
// change OS threads between two cgo calls).
package literllm

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Client is a connection pool and I/O thread of the library (llm_client_t).
// It is safe for concurrent use. Close frees it; a finalizer frees a client
// that was never closed, as a safety net only.
type Client struct {
	mu       sync.RWMutex // held shared by every call, exclusively by Close
	ptr      *C.llm_client_t
	closed   context.Context    // done once Close began: calls waiting on a context end
	closeNow context.CancelFunc // makes closed done
}

// Version is the library's version ("MAJOR.MINOR.PATCH").
func Version() string { return C.GoString(llm_version()) }

// VersionNumber is the library's version as MAJOR*10000+MINOR*100+PATCH.
func VersionNumber() int { return int(llm_version_number()) }

// Init initializes the library; only needed by programs that configure
// libcurl first (see llm_init). Clients initialize it themselves.
func Init() error {
	var e *C.llm_error_t
	if st := llm_init_e(&e); st != C.LLM_OK {
		return takeError(st, e)
	}
	return nil
}

// NewClient makes a client from cfg (nil: all defaults).
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		return NewClientJSON("")
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return NewClientJSON(string(b))
}

// NewClientJSON makes a client from a JSON configuration ("" for defaults).
func NewClientJSON(configJSON string) (*Client, error) {
	var cs *C.char
	if configJSON != "" {
		var err error
		if cs, err = cString("config", configJSON); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(cs))
	}
	return newClient(func(out **C.llm_client_t, e **C.llm_error_t) C.llm_status {
		return llm_client_new_e(cs, out, e)
	})
}

// NewClientFromFile makes a client from a configuration file: TOML when the
// path ends in ".toml", else JSON.
func NewClientFromFile(path string) (*Client, error) {
	cs, err := cString("path", path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cs))
	return newClient(func(out **C.llm_client_t, e **C.llm_error_t) C.llm_status {
		return llm_client_new_from_file_e(cs, out, e)
	})
}

// newClient wraps the client that create (an llm_client_new*_e call) gives, or its error.
func newClient(create func(out **C.llm_client_t, e **C.llm_error_t) C.llm_status) (*Client, error) {
	var out *C.llm_client_t
	var e *C.llm_error_t
	if st := create(&out, &e); st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	c := &Client{ptr: out}
	c.closed, c.closeNow = context.WithCancel(context.Background())
	runtime.SetFinalizer(c, func(c *Client) { c.Close() })
	return c, nil
}

// Close frees the client. It waits for blocking calls in progress; requests
// in flight through a context (Chat with a cancellable context, StreamFunc)
// end with ErrCancelled. Streams already made stay valid (they answer
// ErrCancelled) and must still be closed. Close is idempotent.
func (c *Client) Close() error {
	c.closeNow()
	c.mu.Lock()
	p := c.ptr
	c.ptr = nil
	c.mu.Unlock()
	if p != nil {
		runtime.SetFinalizer(c, nil)
		llm_client_free(p)
	}
	return nil
}

// acquire takes the shared lock and gives the live pointer, or ErrClosed.
func (c *Client) acquire() (*C.llm_client_t, error) {
	c.mu.RLock()
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return c.ptr, nil
}

func (c *Client) release() {
	c.mu.RUnlock()
	runtime.KeepAlive(c)
}

// Chat sends a request and waits for its answer. Cancelling ctx cancels the
// transfer in the library; the error is then an *Error of kind ErrCancelled
// that also matches ctx.Err() through errors.Is.
func (c *Client) Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error) {
	b, err := marshalRequest(req)
	if err != nil {
		return nil, err
	}
	return c.ChatJSON(ctx, b)
}

// ChatJSON is Chat with the request as JSON text.
func (c *Client) ChatJSON(ctx context.Context, requestJSON []byte) (*ChatResponse, error) {
	resp, err := c.chatRaw(ctx, requestJSON)
	if err != nil {
		return nil, err
	}
	return responseFromC(resp)
}

func (c *Client) chatRaw(ctx context.Context, requestJSON []byte) (*C.llm_response_t, error) {
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
	var out *C.llm_response_t
	err = c.blocking(ctx, func(tok *C.llm_cancel_t, e **C.llm_error_t) C.llm_status {
		return llm_chat_cancellable_e(p, creq, tok, &out, e)
	})
	return out, err
}

// cancel cancels an async request unless the client is already closed (then
// the request was cancelled by the close).
func (c *Client) cancel(id C.uint64_t) {
	if p, err := c.acquire(); err == nil {
		llm_client_cancel_e(p, id, nil)
		c.release()
	}
}

// pendingCall is one async request. Its callbacks run on the I/O thread.
type pendingCall struct {
	done chan struct{}
	resp *C.llm_response_t
	err  *Error

	// StreamFunc's chunks, handed to the calling goroutine.
	mu     sync.Mutex
	chunks []string
	wake   chan struct{}
	stop   bool // set by the consumer: cancel at the next chunk
}

func (p *pendingCall) onChunk(chunk string) bool {
	p.mu.Lock()
	stop := p.stop
	if !stop {
		p.chunks = append(p.chunks, chunk)
	}
	p.mu.Unlock()
	if p.wake != nil {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return stop
}

func (p *pendingCall) onDone(resp *C.llm_response_t, err *Error) {
	p.resp, p.err = resp, err
	close(p.done)
}

// result gives the outcome once done is closed.
func (p *pendingCall) result(ctx context.Context) (*C.llm_response_t, error) {
	if p.err != nil {
		if p.err.Kind == ErrCancelled && ctx.Err() != nil {
			p.err.cause = ctx.Err()
		}
		return nil, p.err
	}
	return p.resp, nil
}

// StreamFunc streams a request through the library's callback form
// (llm_chat_stream_async): fn runs on the calling goroutine for each chunk,
// in order; a non-nil error from fn cancels the stream and is returned. On
// success it gives the assembled response. Cancelling ctx cancels the stream.
func (c *Client) StreamFunc(ctx context.Context, req *ChatRequest, fn func(*ChatChunk) error) (*ChatResponse, error) {
	b, err := marshalRequest(req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Kind: ErrCancelled, Message: err.Error(), RetryAfter: -1, cause: err}
	}
	creq, err := cBytes("request", b)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(creq))
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	call := &pendingCall{done: make(chan struct{}), wake: make(chan struct{}, 1)}
	h := cgo.NewHandle(asyncCall(call))
	var id C.uint64_t
	var e *C.llm_error_t
	st := C.lgo_chat_stream_async(p, creq, C.uintptr_t(h), &id, &e)
	c.release()
	if st != C.LLM_OK {
		h.Delete()
		return nil, takeError(st, e)
	}
	// The library calls back through h until its done callback: h outlives the
	// request even when fn panics or calls runtime.Goexit (t.Fatal) and the
	// caller recovers. The request is then cancelled and waited for.
	defer func() {
		select {
		case <-call.done:
		default:
			call.mu.Lock()
			call.stop = true
			call.mu.Unlock()
			c.cancel(id)
			<-call.done
			if call.resp != nil {
				llm_response_free(call.resp)
			}
		}
		h.Delete()
	}()
	var fnErr error
	cancelled := false
	deliver := func() {
		call.mu.Lock()
		batch := call.chunks
		call.chunks = nil
		call.mu.Unlock()
		for _, s := range batch {
			if fnErr != nil {
				return
			}
			var ch ChatChunk
			if err := decodeChunk(s, &ch); err != nil {
				fnErr = err
			} else {
				fnErr = fn(&ch)
			}
			if fnErr != nil {
				call.mu.Lock()
				call.stop = true
				call.mu.Unlock()
				c.cancel(id)
			}
		}
	}
	ctxDone := ctx.Done()
loop:
	for {
		select {
		case <-call.wake:
			deliver()
		case <-call.done:
			break loop
		case <-ctxDone:
			if !cancelled {
				cancelled = true
				c.cancel(id)
			}
			ctxDone = nil
		}
	}
	deliver() // chunks that came before the end
	resp, err := call.result(ctx)
	if fnErr != nil {
		if resp != nil {
			llm_response_free(resp)
		}
		return nil, fnErr
	}
	if err != nil {
		return nil, err
	}
	return responseFromC(resp)
}

// Preview gives what Chat (stream false) or Stream (stream true) would send,
// without sending it; credentials are "[REDACTED]".
func (c *Client) Preview(req *ChatRequest, stream bool) (*Preview, error) {
	b, err := marshalRequest(req)
	if err != nil {
		return nil, err
	}
	creq, err := cBytes("request", b)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(creq))
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	s := C.int(0)
	if stream {
		s = 1
	}
	var out *C.char
	var e *C.llm_error_t
	st := llm_preview_request_e(p, creq, s, &out, &e)
	c.release()
	if st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	raw := takeString(out)
	pv := &Preview{Raw: json.RawMessage(raw)}
	if err := json.Unmarshal(pv.Raw, pv); err != nil {
		return nil, err
	}
	return pv, nil
}

// Providers lists the providers this client knows, registered ones first.
func (c *Client) Providers() ([]ProviderInfo, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	return providers(p)
}

// Providers lists the global provider table.
func Providers() ([]ProviderInfo, error) { return providers(nil) }

func providers(p *C.llm_client_t) ([]ProviderInfo, error) {
	var out *C.char
	var e *C.llm_error_t
	if st := llm_providers_json_e(p, &out, &e); st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	var list []ProviderInfo
	if err := json.Unmarshal([]byte(takeString(out)), &list); err != nil {
		return nil, err
	}
	return list, nil
}

// RegisterProvider registers an OpenAI-compatible provider for this client.
func (c *Client) RegisterProvider(prov *Provider) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	return registerProvider(p, prov)
}

// UnregisterProvider removes a provider registered on this client.
func (c *Client) UnregisterProvider(name string) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	return unregisterProvider(p, name)
}

// RegisterProvider registers a provider for every client made afterwards
// (and those alive that have not overridden the name).
func RegisterProvider(prov *Provider) error { return registerProvider(nil, prov) }

// UnregisterProvider removes a globally registered provider.
func UnregisterProvider(name string) error { return unregisterProvider(nil, name) }

func registerProvider(p *C.llm_client_t, prov *Provider) error {
	b, err := json.Marshal(prov)
	if err != nil {
		return err
	}
	cs, err := cBytes("provider", b)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	var e *C.llm_error_t
	if st := llm_register_provider_e(p, cs, &e); st != C.LLM_OK {
		return takeError(st, e)
	}
	return nil
}

func unregisterProvider(p *C.llm_client_t, name string) error {
	cs, err := cString("name", name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	var e *C.llm_error_t
	if st := llm_unregister_provider_e(p, cs, &e); st != C.LLM_OK {
		return takeError(st, e)
	}
	return nil
}

// responseFromC decodes and frees a response: its JSON is copied once into
// Raw and once into the string that backs the decoded strings.
func responseFromC(resp *C.llm_response_t) (*ChatResponse, error) {
	defer llm_response_free(resp)
	js := C.lgo_response_json(resp)
	if js.p == nil {
		return nil, &Error{Kind: ErrOutOfMemory, Message: "llm_response_json: out of memory", RetryAfter: -1}
	}
	src := unsafe.Slice((*byte)(unsafe.Pointer(js.p)), int(js.n))
	raw := make([]byte, len(src))
	copy(raw, src) // one copy, not zeroed first
	r := &ChatResponse{Raw: raw}
	if err := decodeResponse(raw, string(raw), r); err != nil {
		return nil, err
	}
	return r, nil
}

// yieldBeforeBlocking reschedules the calling goroutine before a cgo call
// that may block for a while (a whole HTTP exchange), once every yieldEvery
// at most. Go's sysmon takes the P away from a goroutine that sits in a cgo
// call for more than 20 us once its P has run for 10 ms without rescheduling,
// and a goroutine that makes blocking calls back to back is never
// rescheduled: from then on each of its calls gave its P away, parked sysmon
// and woke it again (a futex wake and sysmon's 20 us naps on every call,
// measured with strace). A Gosched restarts that 10 ms clock. It is not free:
// from Go 1.21 on it also wakes an idle P's thread (wakep), which then spins,
// so a Gosched before every call cost a futex wake per call and made Chat
// about 0.35x the C call slower under Go 1.23 (strace: 2 futex calls per
// call, against 0.08 with Go 1.19). One Gosched per yieldEvery, whichever
// goroutine is calling then, keeps the clock of a goroutine calling back to
// back fresh at a fraction of that.
func yieldBeforeBlocking() {
	now := int64(time.Since(yieldEpoch))
	last := lastYield.Load()
	if now-last < int64(yieldEvery) || !lastYield.CompareAndSwap(last, now) {
		return
	}
	runtime.Gosched()
}

const yieldEvery = 2 * time.Millisecond

var (
	yieldEpoch = time.Now()
	lastYield  atomic.Int64 // time.Since(yieldEpoch) at the last Gosched
)

// cBytes copies b into a NUL-terminated C string (free with C.free). A NUL
// byte inside b would end the text early for C, so b holding one fails with
// ErrInvalidArgument naming what b is ("request", "config", ...).
func cBytes(what string, b []byte) (*C.char, error) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, nulError(what, i)
	}
	p := C.malloc(C.size_t(len(b) + 1))
	buf := unsafe.Slice((*byte)(p), len(b)+1)
	copy(buf, b)
	buf[len(b)] = 0
	return (*C.char)(p), nil
}

// cString is cBytes for a string.
func cString(what string, s string) (*C.char, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, nulError(what, i)
	}
	return C.CString(s), nil
}

func nulError(what string, at int) *Error {
	return &Error{Kind: ErrInvalidArgument, Message: what + " holds a NUL byte (at byte " + strconv.Itoa(at) + ")", RetryAfter: -1}
}

// takeString copies and frees a string the library gave.
func takeString(s *C.char) string {
	out := C.GoString(s)
	llm_string_free(s)
	return out
}
