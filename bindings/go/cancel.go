package literllm

/*
#include <literllm.h>
*/
import "C"

import (
	"context"
	"sync/atomic"
)

// ctxToken lets a context end a blocking call: a library cancel token
// (llm_cancel_t) triggered when the context is done, or the client closes,
// before the call returns. The call itself stays a blocking one on the
// calling goroutine's thread, which may run the client's loop there (the fast
// path of Chat with context.Background()); the async form with a Go callback
// cost two more thread switches and a foreign-thread entry into Go per call.
// Who watches the context depends on the Go release: context.AfterFunc from
// Go 1.21 (ctxwatch_afterfunc.go), a poller before (ctxwatch_poll.go). Both
// give c.watch(ctx), which makes the token (w.tok), and w.end(), called once
// the call has returned, after which the token is freed as soon as no
// watcher can still trigger it (w.refs: the call and each watcher that may
// still run).

func newCancelToken() (*C.llm_cancel_t, error) {
	var tok *C.llm_cancel_t
	var e *C.llm_error_t
	if st := llm_cancel_new_e(&tok, &e); st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	return tok, nil
}

func (w *ctxToken) release() {
	if atomic.AddInt32(&w.refs, -1) == 0 {
		llm_cancel_free(w.tok)
	}
}

// blocking makes one blocking library call (call, given the token to pass
// on, or nil when ctx cannot be cancelled) with the client acquired, and
// releases the client. It runs on this goroutine's thread, where the library
// may run the client's loop itself: no thread switch.
func (c *Client) blocking(ctx context.Context, call func(tok *C.llm_cancel_t, e **C.llm_error_t) C.llm_status) error {
	var w *ctxToken
	var tok *C.llm_cancel_t
	if ctx.Done() != nil {
		var err error
		if w, err = c.watch(ctx); err != nil {
			c.release()
			return err
		}
		tok = w.tok
	}
	var e *C.llm_error_t
	yieldBeforeBlocking()
	st := call(tok, &e)
	if w != nil {
		w.end()
	}
	c.release()
	if st != C.LLM_OK {
		return withContext(ctx, takeError(st, e))
	}
	return nil
}

// withContext makes a cancellation that ctx caused match ctx.Err() too.
func withContext(ctx context.Context, err error) error {
	if e, ok := err.(*Error); ok && e.Kind == ErrCancelled && ctx.Err() != nil {
		e.cause = ctx.Err()
	}
	return err
}
