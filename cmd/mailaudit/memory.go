package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Heap sizing of a run. Go's default collector lets the heap grow to twice
// what is live before collecting. A run over attacker-chosen names keeps
// ~100 MB live (the rules' capped state) and one over a large provider's
// day ~500 MB (a baseline of a million users): twice that broke the
// memory targets (256 MiB and 1 GiB) although the live data fit.
// tuneMemory instead sets a soft memory limit of heapHeadroom times what
// is live, at least minHeapLimit: small runs collect as usual, large ones
// collect sooner (more often, never all the time, since the limit stays
// above what is live). Measured on 1M-line `loggen -stress` logs, scan
// peak RSS and user CPU: hostile 261 -> 199 MiB (+18 % CPU), crowd
// 1.11 GiB -> 827 MiB (+35 % CPU); the realistic day (28 MiB) is not
// affected. GOMEMLIMIT=off gives Go's default back.
const (
	minHeapLimit  = 192 << 20
	heapHeadroom  = 1.5
	heapPollEvery = 50 * time.Millisecond
)

// tuneMemory starts adjusting the soft memory limit to what is live and
// returns a function that stops and restores the limit. With GOMEMLIMIT
// set, the user's limit is left alone.
func tuneMemory() (stop func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(-1)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var set int64
		tick := time.NewTicker(heapPollEvery)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				limit := max(minHeapLimit, int64(float64(sample[0].Value.Uint64())*heapHeadroom))
				if limit != set {
					debug.SetMemoryLimit(limit)
					set = limit
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		debug.SetMemoryLimit(prev)
	}
}
