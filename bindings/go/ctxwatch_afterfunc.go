//go:build go1.21

package literllm

/*
#include <literllm.h>
*/
import "C"

import "context"

// ctxToken (see cancel.go), from Go 1.21: the context and the client's closed
// context each get a context.AfterFunc that triggers the token. For the
// standard library's contexts that is an entry in the context's list of
// children, no goroutine: a call costs no watcher until its context is done.
type ctxToken struct {
	tok       *C.llm_cancel_t
	stopCtx   func() bool
	stopClose func() bool
	// The call and each AfterFunc that may still run: the last to let go
	// frees tok (an AfterFunc that end() could not stop is running, or about
	// to, and triggers the token first).
	refs int32
}

// watch: see cancel.go.
func (c *Client) watch(ctx context.Context) (*ctxToken, error) {
	tok, err := newCancelToken()
	if err != nil {
		return nil, err
	}
	w := &ctxToken{tok: tok, refs: 3}
	fire := func() {
		llm_cancel_trigger(w.tok)
		w.release()
	}
	w.stopCtx = context.AfterFunc(ctx, fire)
	w.stopClose = context.AfterFunc(c.closed, fire)
	return w, nil
}

// end: the call has returned.
func (w *ctxToken) end() {
	if w.stopCtx() {
		w.release()
	}
	if w.stopClose() {
		w.release()
	}
	w.release()
}
