package logfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// benchLog returns about 8 MiB of realistic log lines: the shared corpus
// when present, a synthetic line otherwise.
func benchLog(b *testing.B) []byte {
	b.Helper()
	var sample []byte
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*.log"))
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err == nil {
			sample = append(sample, d...)
		}
	}
	if len(sample) == 0 {
		sample = []byte("Nov 24 10:00:01 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=203.0.113.45, lip=192.0.2.1, mpid=1234, TLS, session=<abcdEFGH>\n")
	}
	var buf bytes.Buffer
	for buf.Len() < 8<<20 {
		buf.Write(sample)
	}
	return buf.Bytes()
}

func BenchmarkLineReader(b *testing.B) {
	data := benchLog(b)
	lines := bytes.Count(data, []byte{'\n'})
	r := bytes.NewReader(data)
	lr := NewLineReader(r)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		lr.Reset(r)
		n := 0
		for {
			if _, err := lr.Next(); err != nil {
				break
			}
			n++
		}
		if n < lines-1 {
			b.Fatalf("%d lines, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(lines), "lines/op")
}

// BenchmarkLineReaderMatch is NextMatch over the same log with the
// parser's markers (testFilter): the block search a scan reads files
// with; lines/op counts the lines returned.
func BenchmarkLineReaderMatch(b *testing.B) {
	data := benchLog(b)
	r := bytes.NewReader(data)
	lr := NewLineReader(r)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r.Reset(data)
		lr.Reset(r)
		n = 0
		for {
			if _, _, _, err := lr.NextMatch(testFilter); err != nil {
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(n), "lines/op")
}

// BenchmarkScanner is the bufio.Scanner baseline.
func BenchmarkScanner(b *testing.B) {
	data := benchLog(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, bufSize), DefaultMax)
		for sc.Scan() {
		}
	}
}

func BenchmarkLineReaderGzip(b *testing.B) {
	data := benchLog(b)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(data)
	zw.Close()
	path := filepath.Join(b.TempDir(), "mail.log.1.gz")
	if err := os.WriteFile(path, zb.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	benchReadFile(b, path, len(data))
}

func BenchmarkLineReaderFile(b *testing.B) {
	data := benchLog(b)
	path := filepath.Join(b.TempDir(), "mail.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	benchReadFile(b, path, len(data))
}

// BenchmarkResumeCommit measures what a cron run pays for identity when
// nothing was added: Resume from the end of an 8 MiB file (fingerprint
// and position checks), one Next, Commit and Close.
func BenchmarkResumeCommit(b *testing.B) {
	for _, tc := range []struct {
		name string
		gz   bool // the saved generation was rotated and compressed
	}{{"plain", false}, {"rotated-gz", true}} {
		b.Run(tc.name, func(b *testing.B) {
			data := benchLog(b)
			dir := b.TempDir()
			path := filepath.Join(dir, "mail.log")
			writeFile(b, path, data)
			e, err := EndEntry(path)
			if err != nil {
				b.Fatal(err)
			}
			if tc.gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				if _, err := zw.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
				writeFile(b, filepath.Join(dir, "mail.log.1.gz"), z.Bytes())
				if err := os.Remove(path); err != nil {
					b.Fatal(err)
				}
				writeFile(b, path, []byte("x\n"))
			}
			b.ReportAllocs()
			for b.Loop() {
				rs, err := Resume(path, e)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := rs.Next(); err != nil {
						break
					}
				}
				rs.Commit()
				rs.Close()
			}
		})
	}
}

// benchReadFile opens path and reads all its lines, over and over,
// counting size bytes of log text per read.
func benchReadFile(b *testing.B, path string, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		in, err := Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		lr := NewLineReader(in)
		for {
			if _, err := lr.Next(); err != nil {
				break
			}
		}
		in.Close()
	}
}
