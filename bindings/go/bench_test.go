package literllm

import (
	"context"
	"encoding/json"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"
)

// Per-call cost of Client.Chat against the C call (lgo_bench_chat) on the
// local upstream, sequential and with 16 in flight:
//
//	go test -run '^$' -bench . -benchtime 2000x
func benchRequest(b *testing.B) []byte {
	req, err := json.Marshal(hello("bench"))
	if err != nil {
		b.Fatal(err)
	}
	return req
}

func BenchmarkChatSequentialC(b *testing.B) {
	c := testClient(b)
	req := benchRequest(b)
	b.ResetTimer()
	if err := benchCChat(c, req, b.N); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkChatSequentialGo(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatSequentialGoCancellableCtx(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func in16(b *testing.B) {
	b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
}

func BenchmarkChat16InFlightC(b *testing.B) {
	c := testClient(b)
	req := benchRequest(b)
	in16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchCChat(c, req, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkChat16InFlightGo(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	in16(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRSS10000Calls reports the resident set before, after the first
// 10,000 chats and after b.N blocks of 10,000 (run with -benchtime 3x: flat
// means the last two agree).
func BenchmarkRSS10000Calls(b *testing.B) {
	c := testClient(b)
	req := hello("rss")
	ctx := context.Background()
	for i := 0; i < 200; i++ { // warm up pools and caches
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	start := rssKiB()
	var first int64
	for n := 0; n < b.N; n++ {
		for i := 0; i < 10000; i++ {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		if n == 0 {
			runtime.GC()
			first = rssKiB()
		}
	}
	runtime.GC()
	b.ReportMetric(float64(start), "rss-start-KiB")
	b.ReportMetric(float64(first), "rss-10k-KiB")
	b.ReportMetric(float64(rssKiB()), "rss-end-KiB")
}

// BenchmarkInterleaved alternates blocks of C calls and Client.Chat calls in
// one run, so that both see the same machine load; it reports each one's
// mean time per call, their ratio and the median of the per-block ratios
// (target: go/c <= 1.2), and the same for
// the process's CPU time (getrusage: every thread of this process, the
// library's I/O thread and Go's GC included, the upstream not), which a
// loaded machine disturbs less than the wall time.
//
// BenchmarkInterleavedCtx does the same with a cancellable context (one for
// every call), BenchmarkInterleavedCtxPerCall with a new context.WithTimeout
// per call, as a Go program usually makes them: those calls pass a cancel
// token, and the context is watched as cancel.go says (context.AfterFunc
// from Go 1.21, the poller before).
func BenchmarkInterleaved(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	ctx := context.Background()
	interleaved(b, c, func() error { _, err := c.Chat(ctx, req); return err })
}

func BenchmarkInterleavedCtx(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interleaved(b, c, func() error { _, err := c.Chat(ctx, req); return err })
}

func BenchmarkInterleavedCtxPerCall(b *testing.B) {
	c := testClient(b)
	req := hello("bench")
	interleaved(b, c, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.Chat(ctx, req)
		return err
	})
}

func interleaved(b *testing.B, c *Client, goCall func() error) {
	raw := benchRequest(b)
	const block = 100
	var tc, tg, cc, cg time.Duration
	var ratios []float64
	calls := 0
	runC := func() (time.Duration, time.Duration) {
		u0, t0 := cpuTime(), time.Now()
		if err := benchCChat(c, raw, block); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), cpuTime() - u0
	}
	runGo := func() (time.Duration, time.Duration) {
		u0, t0 := cpuTime(), time.Now()
		for i := 0; i < block; i++ {
			if err := goCall(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(t0), cpuTime() - u0
	}
	for n := 0; n < b.N; n++ {
		// Alternate which goes first, so neither always follows the other.
		var wc, uc, wg, ug time.Duration
		if n%2 == 0 {
			wc, uc = runC()
			wg, ug = runGo()
		} else {
			wg, ug = runGo()
			wc, uc = runC()
		}
		tc, cc, tg, cg = tc+wc, cc+uc, tg+wg, cg+ug
		ratios = append(ratios, float64(wg)/float64(wc))
		calls += block
	}
	sort.Float64s(ratios)
	b.ReportMetric(float64(tc.Nanoseconds())/float64(calls), "c-ns/call")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(calls), "go-ns/call")
	b.ReportMetric(float64(tg)/float64(tc), "go/c")
	b.ReportMetric(ratios[len(ratios)/2], "median-go/c")
	b.ReportMetric(float64(cc.Nanoseconds())/float64(calls), "c-cpu-ns/call")
	b.ReportMetric(float64(cg.Nanoseconds())/float64(calls), "go-cpu-ns/call")
	b.ReportMetric(float64(cg)/float64(cc), "cpu-go/c")
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The decoding of one answer alone, per call (CPU, allocations): encoding/json
// as Client.Chat used it before decode.go, and decode.go. The input is the
// local upstream's answer (upstreamResponse in decode_test.go). cpu-ns/op is
// the process's CPU time per decoding (GC included), which a loaded machine
// disturbs less than ns/op.
//
//	go test -run '^$' -bench Decode -benchmem
func BenchmarkDecodeResponse(b *testing.B) {
	raw := []byte(upstreamResponse)
	benchCPU(b, "encoding-json", func() error {
		r := &ChatResponse{Raw: json.RawMessage(string(raw))} // was C.GoString, then a copy
		return json.Unmarshal(r.Raw, r)
	})
	benchCPU(b, "decode.go", func() error {
		buf := append([]byte(nil), raw...) // the copy out of C memory
		return decodeResponse(buf, string(buf), &ChatResponse{Raw: buf})
	})
}

// BenchmarkDecodeChunk is the same for one streamed chunk (decodeChunk runs
// on every chunk).
func BenchmarkDecodeChunk(b *testing.B) {
	benchCPU(b, "encoding-json", func() error {
		var ch ChatChunk
		ch.Raw = json.RawMessage(upstreamChunk)
		return json.Unmarshal(ch.Raw, &ch)
	})
	benchCPU(b, "decode.go", func() error {
		var ch ChatChunk
		return decodeChunk(upstreamChunk, &ch)
	})
}

func benchCPU(b *testing.B, name string, f func() error) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		u0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-u0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}
