package logfile

import (
	"bufio"
	"bytes"
	"compress/bzip2"
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

// sniffLen is how many leading bytes sniff looks at.
const sniffLen = 10

// codec is how the content of an Input is compressed.
type codec uint8

const (
	plain codec = iota
	gzipped
	bzipped
)

// sniff returns the codec announced by the first bytes of a file: the
// gzip magic 1f 8b, or bzip2's "BZh", a block size digit and the magic of
// a first block or of an empty stream's end.
func sniff(b []byte) codec {
	switch {
	case len(b) >= 2 && b[0] == gzipID1 && b[1] == gzipID2:
		return gzipped
	case len(b) >= sniffLen && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' &&
		(bytes.Equal(b[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) ||
			bytes.Equal(b[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})):
		return bzipped
	}
	return plain
}

// reader returns a reader of r's decompressed content.
func (c codec) reader(r io.Reader) (io.Reader, error) {
	switch c {
	case gzipped:
		return gzip.NewReader(r)
	case bzipped:
		return bzip2.NewReader(r), nil
	}
	return r, nil
}

// Input is one opened log: a plain file, a gzip- or bzip2-compressed file
// or stdin. Reading it yields the (decompressed) log text. An Input is not
// safe for concurrent use.
type Input struct {
	name  string
	r     io.Reader
	f     *os.File // nil for stdin
	codec codec
	dec   io.Reader // the decompressor, if compressed
}

// Open opens path for reading. The path "-" means stdin, which Open reads
// but never closes. Gzip and bzip2 compression are detected by content
// (the magic bytes 1f 8b; "BZh" and a block magic), not by the file name;
// concatenated gzip members or bzip2 streams are read as one stream.
// Errors name the file: they are *fs.PathError values, so
// errors.Is(err, fs.ErrNotExist) works.
func Open(path string, stdin io.Reader) (*Input, error) {
	if path == "-" {
		if stdin == nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("no stdin")}
		}
		br := bufio.NewReaderSize(stdin, bufSize)
		in := &Input{name: path, r: br}
		magic, err := br.Peek(sniffLen)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if c := sniff(magic); c != plain {
			if err := in.decompress(c, br); err != nil {
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
	if fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: errIsDir}
	}
	var src io.Reader
	c := plain
	if fi.Mode().IsRegular() {
		// Regular files are sniffed with ReadAt so a plain file is read
		// directly, unbuffered here, and can still be seeked.
		var magic [sniffLen]byte
		n, rerr := f.ReadAt(magic[:], 0)
		if rerr != nil && rerr != io.EOF {
			f.Close()
			return nil, rerr
		}
		if c = sniff(magic[:n]); c != plain {
			src = bufio.NewReaderSize(f, bufSize)
		}
	} else {
		br := bufio.NewReaderSize(f, bufSize)
		in.r = br
		m, perr := br.Peek(sniffLen)
		if perr != nil && perr != io.EOF {
			f.Close()
			var pe *fs.PathError
			if errors.As(perr, &pe) {
				return nil, perr
			}
			return nil, &fs.PathError{Op: "read", Path: path, Err: perr}
		}
		c = sniff(m)
		src = br
	}
	if c != plain {
		if err := in.decompress(c, src); err != nil {
			f.Close()
			return nil, err
		}
	}
	return in, nil
}

// decompress switches in to decompressing r with c.
func (in *Input) decompress(c codec, r io.Reader) error {
	dec, err := c.reader(r)
	if err != nil {
		return &fs.PathError{Op: "decompress", Path: in.name, Err: err}
	}
	in.codec, in.dec, in.r = c, dec, dec
	return nil
}

// errIsDir is the error for a directory given as a log.
var errIsDir = errors.New("is a directory, not a log file")

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
	if c, ok := in.dec.(io.Closer); ok {
		err = c.Close()
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

// Compressed reports whether the input is compressed (gzip or bzip2).
func (in *Input) Compressed() bool { return in.codec != plain }

// File returns the underlying file, or nil for stdin. For a plain
// (uncompressed) regular file, reading the Input reads the file directly,
// so the file's offset is the number of bytes read so far. The caller
// must not close the file; Close does that.
func (in *Input) File() *os.File { return in.f }
