package logfile

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
)

// gzipID1 and gzipID2 are the first two bytes of every gzip member
// (RFC 1952).
const (
	gzipID1 = 0x1f
	gzipID2 = 0x8b
)

// Input is one opened log: a plain file, a gzip-compressed file or stdin.
// Reading it yields the (decompressed) log text. An Input is not safe for
// concurrent use.
type Input struct {
	name string
	r    io.Reader
	f    *os.File // nil for stdin
	zr   *gzip.Reader
}

// Open opens path for reading. The path "-" means stdin, which Open reads
// but never closes. Gzip compression is detected by content (the magic
// bytes 1f 8b), not by the file name; concatenated gzip members are read
// as one stream. Errors name the file: they are *fs.PathError values, so
// errors.Is(err, fs.ErrNotExist) works.
func Open(path string, stdin io.Reader) (*Input, error) {
	if path == "-" {
		if stdin == nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("no stdin")}
		}
		br := bufio.NewReaderSize(stdin, bufSize)
		in := &Input{name: path, r: br}
		magic, err := br.Peek(2)
		if err != nil && err != io.EOF {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if len(magic) == 2 && magic[0] == gzipID1 && magic[1] == gzipID2 {
			if err := in.gunzip(br); err != nil {
				return nil, err
			}
		}
		return in, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	in := &Input{name: path, r: f, f: f}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var src io.Reader
	if fi.Mode().IsRegular() {
		// Regular files are sniffed with ReadAt so a plain file is read
		// directly, unbuffered here, and can still be seeked.
		var magic [2]byte
		n, rerr := f.ReadAt(magic[:], 0)
		if rerr != nil && rerr != io.EOF {
			f.Close()
			return nil, rerr
		}
		if n == 2 && magic[0] == gzipID1 && magic[1] == gzipID2 {
			src = bufio.NewReaderSize(f, bufSize)
		}
	} else {
		br := bufio.NewReaderSize(f, bufSize)
		in.r = br
		m, perr := br.Peek(2)
		if perr != nil && perr != io.EOF {
			f.Close()
			return nil, &fs.PathError{Op: "read", Path: path, Err: perr}
		}
		if len(m) == 2 && m[0] == gzipID1 && m[1] == gzipID2 {
			src = br
		}
	}
	if src != nil {
		if err := in.gunzip(src); err != nil {
			f.Close()
			return nil, err
		}
	}
	return in, nil
}

// gunzip switches in to decompressing r.
func (in *Input) gunzip(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return &fs.PathError{Op: "gunzip", Path: in.name, Err: err}
	}
	in.zr = zr
	in.r = zr
	return nil
}

// Read reads decompressed log text. Errors other than io.EOF name the
// file; a truncated gzip stream yields an error wrapping
// io.ErrUnexpectedEOF.
func (in *Input) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	if err != nil && err != io.EOF {
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			err = &fs.PathError{Op: "read", Path: in.name, Err: err}
		}
	}
	return n, err
}

// Close releases the file. It does not close stdin.
func (in *Input) Close() error {
	var err error
	if in.zr != nil {
		err = in.zr.Close()
	}
	if in.f != nil {
		if cerr := in.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Name returns the path given to Open ("-" for stdin).
func (in *Input) Name() string { return in.name }

// Compressed reports whether the input is gzip-compressed.
func (in *Input) Compressed() bool { return in.zr != nil }

// File returns the underlying file, or nil for stdin. For a plain
// (uncompressed) regular file, reading the Input reads the file directly,
// so the file's offset is the number of bytes read so far. The caller
// must not close the file; Close does that.
func (in *Input) File() *os.File { return in.f }
