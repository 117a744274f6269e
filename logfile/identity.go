package logfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
)

// FingerprintLen is the maximum number of leading bytes a fingerprint
// covers.
const FingerprintLen = 1024

// fingerprint is the SHA-256 of the first n bytes of a generation's
// (decompressed) content, with n = min(size, FingerprintLen). A file that
// was shorter than FingerprintLen when fingerprinted is matched later by
// hashing the same number of leading bytes (prefix compare).
type fingerprint struct {
	n   int
	sum [sha256.Size]byte
}

// hex returns the sum in hexadecimal, or "" for an empty fingerprint.
func (fp fingerprint) hex() string {
	if fp.n == 0 {
		return ""
	}
	return hex.EncodeToString(fp.sum[:])
}

// prefix reads up to n leading bytes of f's content, decompressed with c.
// It does not move f's offset.
func prefix(f *os.File, c codec, n int) ([]byte, error) {
	buf := make([]byte, n)
	r, err := c.reader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, err
	}
	got, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return buf[:got], err
}

// fingerprintOf fingerprints f's current content.
func fingerprintOf(f *os.File, c codec) (fingerprint, error) {
	b, err := prefix(f, c, FingerprintLen)
	if err != nil {
		return fingerprint{}, err
	}
	return fingerprint{n: len(b), sum: sha256.Sum256(b)}, nil
}

// matches reports whether f's content still starts with the bytes fp was
// taken from. An empty fingerprint matches anything.
func (fp fingerprint) matches(f *os.File, c codec) (bool, error) {
	if fp.n == 0 {
		return true, nil
	}
	b, err := prefix(f, c, fp.n)
	if err != nil || len(b) < fp.n {
		return false, err
	}
	return sha256.Sum256(b) == fp.sum, nil
}

// errShort reports content that ends before a resume position.
var errShort = errors.New("content ends before the saved position")

// tailAt returns the fingerprint of the n bytes of f's content just before
// off (n ≤ off): it checks that a resume position still follows the same
// bytes. Content shorter than off yields errShort. It does not move f's
// offset; compressed content is decompressed up to off.
func tailAt(f *os.File, c codec, off int64, n int) (fingerprint, error) {
	buf := make([]byte, n)
	if c == plain {
		got, err := f.ReadAt(buf, off-int64(n))
		if got < n {
			if err == nil || err == io.EOF {
				err = errShort
			}
			return fingerprint{}, err
		}
		if fi, err := f.Stat(); err != nil || fi.Size() < off {
			return fingerprint{}, errShort
		}
		return fingerprint{n: n, sum: sha256.Sum256(buf)}, nil
	}
	r, err := c.reader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return fingerprint{}, err
	}
	return readTail(r, off, buf)
}

// readTail discards r up to off-len(buf), then reads buf full and returns
// its fingerprint. Content shorter than off yields errShort; other errors
// are returned as they are.
func readTail(r io.Reader, off int64, buf []byte) (fingerprint, error) {
	_, err := io.CopyN(io.Discard, r, off-int64(len(buf)))
	if err == nil {
		_, err = io.ReadFull(r, buf)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fingerprint{}, errShort
	}
	if err != nil {
		return fingerprint{}, err
	}
	return fingerprint{n: len(buf), sum: sha256.Sum256(buf)}, nil
}
