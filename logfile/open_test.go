package logfile

import (
	"bytes"
	"compress/gzip"
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
