package main

import (
	"io"
	"os"
	"runtime/pprof"
	"testing"
	"time"
)

func TestTmpHeap(t *testing.T) {
	p := os.Getenv("TMP_HEAP_LOG")
	if p == "" {
		t.Skip()
	}
	go func() {
		time.Sleep(40 * time.Second)
		f, _ := os.Create("/tmp/midheap.out")
		pprof.WriteHeapProfile(f)
		f.Close()
	}()
	Main([]string{os.Getenv("TMP_CMD"), "--fail-on", "brute-force", "--baseline", "memory", "--no-geoip", "--cache-dir", t.TempDir(), p}, nil, io.Discard, io.Discard)
}
