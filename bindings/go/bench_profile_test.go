package literllm

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkInterleaved16 is BenchmarkInterleaved with 16 calls in flight:
// blocks of C calls (16 threads in lgo_bench_chat) and of Client.Chat (16
// goroutines) alternate, and the Go/C ratio is taken per block pair; it
// reports the median ratio (target <= 1.2).
func BenchmarkInterleaved16(b *testing.B) {
	c := testClient(b)
	raw := benchRequest(b)
	req := hello("bench")
	ctx := context.Background()
	const lanes, perLane = 16, 8
	run := func(call func() error) time.Duration {
		var wg sync.WaitGroup
		t0 := time.Now()
		for l := 0; l < lanes; l++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perLane; i++ {
					if err := call(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	cCall := func() error { return benchCChat(c, raw, 1) }
	goCall := func() error { _, err := c.Chat(ctx, req); return err }
	var ratios []float64
	var tc, tg time.Duration
	for n := 0; n < b.N; n++ {
		// Alternate which goes first, so neither always follows the other.
		var dc, dg time.Duration
		if n%2 == 0 {
			dc, dg = run(cCall), run(goCall)
		} else {
			dg, dc = run(goCall), run(cCall)
		}
		tc += dc
		tg += dg
		ratios = append(ratios, float64(dg)/float64(dc))
	}
	sort.Float64s(ratios)
	calls := float64(b.N * lanes * perLane)
	b.ReportMetric(float64(tc.Nanoseconds())/calls, "c-ns/call")
	b.ReportMetric(float64(tg.Nanoseconds())/calls, "go-ns/call")
	b.ReportMetric(ratios[len(ratios)/2], "median-go/c")
}
