package literllm

import (
	"context"
	"encoding/json"
	"runtime"
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

// BenchmarkRSS10000Calls reports the resident set before and after 10,000
// chats (run with -benchtime 1x).
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
	for n := 0; n < b.N; n++ {
		for i := 0; i < 10000; i++ {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	runtime.GC()
	b.ReportMetric(float64(start), "rss-start-KiB")
	b.ReportMetric(float64(rssKiB()), "rss-end-KiB")
}

// BenchmarkInterleaved alternates blocks of C calls and Client.Chat calls in
// one run, so that both see the same machine load; it reports each one's
// mean time per call and their ratio (target: go/c <= 1.2).
func BenchmarkInterleaved(b *testing.B) {
	c := testClient(b)
	raw := benchRequest(b)
	req := hello("bench")
	ctx := context.Background()
	const block = 100
	var tc, tg time.Duration
	calls := 0
	for n := 0; n < b.N; n++ {
		t0 := time.Now()
		if err := benchCChat(c, raw, block); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for i := 0; i < block; i++ {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		tc += t1.Sub(t0)
		tg += time.Since(t1)
		calls += block
	}
	b.ReportMetric(float64(tc.Nanoseconds())/float64(calls), "c-ns/call")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(calls), "go-ns/call")
	b.ReportMetric(float64(tg)/float64(tc), "go/c")
}
