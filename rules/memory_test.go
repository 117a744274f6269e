package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/parse"
)

// BenchmarkHostileNames feeds failures with distinct random names from
// distinct random addresses (the attacker-chosen worst case) and reports
// the heap in use at the end: the Engine's state must stay bounded.
// MAILAUDIT_HOSTILE_EVENTS sets the number of events (default 200000):
//
//	MAILAUDIT_HOSTILE_EVENTS=1000000 go test ./rules -run '^$' -bench HostileNames -benchtime 1x
func BenchmarkHostileNames(b *testing.B) {
	n := 200000
	if s := os.Getenv("MAILAUDIT_HOSTILE_EVENTS"); s != "" {
		fmt.Sscan(s, &n)
	}
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		e := NewEngine(DefaultConfig(), Options{})
		for i := range n {
			ip := netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
			ev := parse.Event{Time: t0.Add(time.Duration(i) * 25 * time.Millisecond), Kind: parse.KindLogin, Result: parse.Failure,
				User: fmt.Sprintf("%012x", r.Uint64()), HasUser: true, Addr: ip, File: "hostile.log", Line: i + 1}
			e.Observe(ev, devDE)
		}
		fs := e.Flush()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(len(fs)), "findings")
		b.ReportMetric(float64(e.NotTracked()), "not-tracked")
		if path := os.Getenv("MAILAUDIT_HEAP_PROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		runtime.KeepAlive(e)
	}
}
