//go:build !go1.21

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

// ctxToken (see cancel.go), before Go 1.21: Go 1.19 has no
// context.AfterFunc (ctxwatch_afterfunc.go uses it from Go 1.21), and a goroutine
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

// watch: see cancel.go.
func (c *Client) watch(ctx context.Context) (*ctxToken, error) {
	tok, err := newCancelToken()
	if err != nil {
		return nil, err
	}
	w := &ctxToken{tok: tok, done: ctx.Done(), closing: c.closed.Done(), since: time.Now(), refs: 1}
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
