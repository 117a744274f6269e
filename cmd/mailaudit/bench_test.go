package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/loggen"
)

// benchLog writes n realistic lines (most of them not logins) once per
// benchmark and returns the file and its size.
func benchLog(b *testing.B, n int) (string, int64) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "mail.log")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := loggen.New(1, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)).WriteLines(w, n); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p, fi.Size()
}

// BenchmarkScan is the whole `scan --format json` of 200k realistic
// lines: reading, parsing, classifying, rules, summary, output. Compare
// its MB/s with `grep -c -F imap-login:` on the same file (README).
func BenchmarkScan(b *testing.B) {
	p, size := benchLog(b, 200_000)
	args := []string{"scan", "--no-geoip", "--cache-dir", b.TempDir(), "--progress", "never", "--format", "json", p}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(args, nil, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkScanEvents is `scan --events --format jsonl`: every event
// classified and encoded.
func BenchmarkScanEvents(b *testing.B) {
	p, size := benchLog(b, 200_000)
	args := []string{"scan", "--no-geoip", "--cache-dir", b.TempDir(), "--progress", "never", "--events", "--format", "jsonl", p}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(args, nil, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}
