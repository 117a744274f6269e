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
	return writeBench(b, func(w io.Writer) error {
		return loggen.New(1, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)).WriteLines(w, n)
	})
}

// benchDay writes the realistic generated day (`loggen -day`: 200 users,
// offices, phones, attack sources) with about n lines and returns the
// file and its size.
func benchDay(b *testing.B, n int) (string, int64) {
	b.Helper()
	return writeBench(b, func(w io.Writer) error {
		_, err := loggen.WriteDay(w, loggen.DayConfig{Lines: n})
		return err
	})
}

// writeBench writes a benchmark's log with write and returns its path
// and size.
func writeBench(b *testing.B, write func(io.Writer) error) (string, int64) {
	p := filepath.Join(b.TempDir(), "mail.log")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
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

// benchMain runs args (a file appended) b.N times; findings (exit 1)
// are expected on the realistic day.
func benchMain(b *testing.B, p string, size int64, args ...string) {
	args = append(append([]string{"scan", "--no-geoip", "--year", "2026", "--cache-dir", b.TempDir(), "--progress", "never"}, args...), p)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(args, nil, io.Discard, io.Discard); code != exitOK && code != exitFindings {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkScan is the whole default `scan` (tables) of a realistic
// generated day of 200k lines: reading, parsing, classifying, rules,
// summary, output. Compare its MB/s with `grep -c -F imap-login:` on the
// same file (README "Speed").
func BenchmarkScan(b *testing.B) {
	p, size := benchDay(b, 200_000)
	benchMain(b, p, size)
}

// BenchmarkScanJSON is `scan --format json` of 200k loggen lines.
func BenchmarkScanJSON(b *testing.B) {
	p, size := benchLog(b, 200_000)
	benchMain(b, p, size, "--format", "json")
}

// BenchmarkScanEvents is `scan --events --format jsonl` of the realistic
// day: every event classified and encoded.
func BenchmarkScanEvents(b *testing.B) {
	p, size := benchDay(b, 200_000)
	benchMain(b, p, size, "--events", "--format", "jsonl")
}
