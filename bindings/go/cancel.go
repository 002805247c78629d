package literllm

/*
#include <literllm.h>
*/
import "C"

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// ctxToken lets a context end a blocking call: a library cancel token
// (llm_cancel_t) triggered when the context is done, or the client closes,
// before the call returns. The call itself stays a blocking one on the
// calling goroutine's thread, which may run the client's loop there (the fast
// path of Chat with context.Background()); the async form with a Go callback
// cost two more thread switches and a foreign-thread entry into Go per call.
//
// Who watches the context: Go 1.19 has no context.AfterFunc, and a goroutine
// per call, parked on the context and woken when the call ends, doubled the
// CPU time of a call (each start and wake-up of a goroutine wakes an idle P's
// thread, which spins). So a young call is watched by one poller for the whole
// process, which looks at every young call's context each pollEvery while
// there are any; a call still running after promoteAfter gets a goroutine of
// its own, parked on its context, so that long calls cost no polling.
// A cancellation thus reaches a young call within pollEvery.
type ctxToken struct {
	tok     *C.llm_cancel_t
	done    <-chan struct{}
	closing <-chan struct{}
	since   time.Time
	stop    chan struct{} // set when promoted (under poller.mu); closed by end
	refs    int32         // the call and, once promoted, its goroutine: the last to let go frees tok
}

const (
	pollEvery    = time.Millisecond
	promoteAfter = 20 * time.Millisecond
	pollIdleStop = 10 // ticks without a young call before the poller ends
)

var poller struct {
	mu      sync.Mutex
	young   map[*ctxToken]struct{}
	running bool
}

// watch starts watching ctx for one blocking call; the caller passes w.tok
// to the call and calls w.end() once it has returned.
func (c *Client) watch(ctx context.Context) (*ctxToken, error) {
	var tok *C.llm_cancel_t
	var e *C.llm_error_t
	if st := llm_cancel_new_e(&tok, &e); st != C.LLM_OK {
		return nil, takeError(st, e)
	}
	w := &ctxToken{tok: tok, done: ctx.Done(), closing: c.closing, since: time.Now(), refs: 1}
	poller.mu.Lock()
	if poller.young == nil {
		poller.young = make(map[*ctxToken]struct{})
	}
	poller.young[w] = struct{}{}
	if !poller.running {
		poller.running = true
		go poll()
	}
	poller.mu.Unlock()
	return w, nil
}

// end: the call has returned.
func (w *ctxToken) end() {
	poller.mu.Lock()
	delete(poller.young, w)
	stop := w.stop // set only for a promoted call, which is no longer young
	poller.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	w.release()
}

func (w *ctxToken) release() {
	if atomic.AddInt32(&w.refs, -1) == 0 {
		llm_cancel_free(w.tok)
	}
}

func poll() {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	idle := 0
	for range t.C {
		poller.mu.Lock()
		now := time.Now()
		for w := range poller.young {
			select {
			case <-w.done:
			case <-w.closing:
			default:
				if now.Sub(w.since) < promoteAfter {
					continue
				}
				// A long call: a goroutine of its own from now on.
				w.stop = make(chan struct{})
				atomic.AddInt32(&w.refs, 1)
				delete(poller.young, w)
				go w.watchAlone()
				continue
			}
			llm_cancel_trigger(w.tok)
			delete(poller.young, w) // its end() then has nothing to stop
		}
		if len(poller.young) > 0 {
			idle = 0
		} else if idle++; idle >= pollIdleStop {
			poller.running = false
			poller.mu.Unlock()
			return
		}
		poller.mu.Unlock()
	}
}

func (w *ctxToken) watchAlone() {
	select {
	case <-w.done:
		llm_cancel_trigger(w.tok)
	case <-w.closing:
		llm_cancel_trigger(w.tok)
	case <-w.stop:
	}
	w.release()
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
