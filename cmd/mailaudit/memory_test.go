package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneMemory: while a run goes, the soft memory limit follows what is
// live (at least minHeapLimit); stopping restores the limit before; with
// GOMEMLIMIT set the limit is the user's.
func TestTuneMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	stop := tuneMemory()
	keep := make([]byte, 300<<20) // more live than the floor allows for
	for i := range keep {
		if i%4096 == 0 {
			keep[i] = 1
		}
	}
	runtime.GC()
	deadline := time.Now().Add(5 * time.Second)
	want := int64(float64(300<<20) * heapHeadroom)
	ok := func(l int64) bool { return l >= want*95/100 && l <= 2*want } // other tests allocate too
	var limit int64
	for time.Now().Before(deadline) {
		if limit = debug.SetMemoryLimit(-1); ok(limit) {
			break
		}
		time.Sleep(heapPollEvery)
	}
	runtime.KeepAlive(keep)
	if !ok(limit) {
		t.Errorf("limit %d MiB with 300 MiB live, want about %d MiB", limit>>20, want>>20)
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after stop %d, want %d restored", got, before)
	}

	t.Setenv("GOMEMLIMIT", "4GiB")
	stop = tuneMemory()
	time.Sleep(2 * heapPollEvery)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
	stop()
}
