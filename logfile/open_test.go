package logfile

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bz2 returns the bzip2 compression (made with Python's bz2 module) of
// "one\ntwo\n", "a\nb\n" or "", since Go has no bzip2 compressor.
func bz2(t testing.TB, s string) []byte {
	t.Helper()
	h, ok := map[string]string{
		"one\ntwo\n": "425a6839314159265359a7142b77000002c180001002018480200021800c0238f51b8bb9229c2848538a15bb80",
		"a\nb\n":     "425a68393141592653593c854112000001410000103000200030cc0c7a8271772453850903c8541120",
		"":           "425a683917724538509000000000",
	}[s]
	if !ok {
		t.Fatalf("no bzip2 fixture for %q", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	full := gz(t, "one\ntwo\n")
	tests := []struct {
		name       string
		file       string
		data       []byte
		stdin      bool
		want       string
		compressed bool
		wantErr    error // errors.Is target for the read error
	}{
		{name: "plain", file: "mail.log", data: []byte("a\nb\n"), want: "a\nb\n"},
		{name: "empty", file: "mail.log", data: nil, want: ""},
		{name: "one byte 1f", file: "mail.log", data: []byte{0x1f}, want: "\x1f"},
		{name: "gzip without .gz name", file: "mail.log.1", data: full, want: "one\ntwo\n", compressed: true},
		{name: "gz name but plain", file: "mail.log.1.gz", data: []byte("plain\n"), want: "plain\n"},
		{name: "multistream", file: "m.gz", data: append(gz(t, "a\n"), gz(t, "b\n")...), want: "a\nb\n", compressed: true},
		{name: "truncated gzip", file: "t.gz", data: full[:len(full)-6], compressed: true, wantErr: io.ErrUnexpectedEOF},
		{name: "bzip2 by content", file: "mail.log.0", data: bz2(t, "one\ntwo\n"), want: "one\ntwo\n", compressed: true},
		{name: "bzip2 two streams", file: "m.bz2", data: append(bz2(t, "one\ntwo\n"), bz2(t, "a\nb\n")...), want: "one\ntwo\na\nb\n", compressed: true},
		{name: "bzip2 empty", file: "m.bz2", data: bz2(t, ""), want: "", compressed: true},
		{name: "truncated bzip2", file: "t.bz2", data: bz2(t, "one\ntwo\n")[:30], compressed: true, wantErr: io.ErrUnexpectedEOF},
		{name: "BZh text is plain", file: "mail.log", data: []byte("BZh9 is not bzip2\n"), want: "BZh9 is not bzip2\n"},
		{name: "stdin bzip2", stdin: true, data: bz2(t, "a\nb\n"), want: "a\nb\n", compressed: true},
		{name: "stdin plain", stdin: true, data: []byte("x\n"), want: "x\n"},
		{name: "stdin gzip", stdin: true, data: full, want: "one\ntwo\n", compressed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "-"
			var stdin io.Reader
			if tt.stdin {
				stdin = bytes.NewReader(tt.data)
			} else {
				path = filepath.Join(t.TempDir(), tt.file)
				writeFile(t, path, tt.data)
			}
			in, err := Open(path, stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if in.Name() != path {
				t.Errorf("Name %q, want %q", in.Name(), path)
			}
			if in.Compressed() != tt.compressed {
				t.Errorf("Compressed %v, want %v", in.Compressed(), tt.compressed)
			}
			if (in.File() == nil) != tt.stdin {
				t.Errorf("File() = %v", in.File())
			}
			got, err := io.ReadAll(in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want %v naming %s", err, tt.wantErr, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	badHeader := filepath.Join(dir, "bad.gz")
	writeFile(t, badHeader, []byte{0x1f, 0x8b, 0xff})
	tests := []struct {
		name   string
		path   string
		stdin  io.Reader
		target error
	}{
		{name: "missing", path: filepath.Join(dir, "nope.log"), target: fs.ErrNotExist},
		{name: "bad gzip header", path: badHeader, target: io.ErrUnexpectedEOF},
		{name: "no stdin", path: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Open(tt.path, tt.stdin)
			if err == nil {
				in.Close()
				t.Fatal("no error")
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tt.path {
				t.Errorf("error %v does not name %s", err, tt.path)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %v is not %v", err, tt.target)
			}
		})
	}
}

func TestOpenDoesNotCloseStdin(t *testing.T) {
	c := &closeCounter{Reader: strings.NewReader("x\n")}
	in, err := Open("-", c)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil || c.n != 0 {
		t.Errorf("Close: err %v, stdin closed %d times", err, c.n)
	}
}

type closeCounter struct {
	io.Reader
	n int
}

func (c *closeCounter) Close() error { c.n++; return nil }

// TestOpenDirectory: a directory given as a log is named once, clearly.
func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, nil)
	if err == nil {
		t.Fatal("Open(directory) succeeded")
	}
	if want := "open " + dir + ": is a directory, not a log file"; err.Error() != want {
		t.Errorf("Open(directory) = %q, want %q", err, want)
	}
}
