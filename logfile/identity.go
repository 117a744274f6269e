package logfile

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
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

// prefix reads up to n leading bytes of f's content, decompressing when gz.
// It does not move f's offset.
func prefix(f *os.File, gz bool, n int) ([]byte, error) {
	buf := make([]byte, n)
	var r io.Reader = io.NewSectionReader(f, 0, 1<<62)
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	got, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return buf[:got], err
}

// fingerprintOf fingerprints f's current content.
func fingerprintOf(f *os.File, gz bool) (fingerprint, error) {
	b, err := prefix(f, gz, FingerprintLen)
	if err != nil {
		return fingerprint{}, err
	}
	return fingerprint{n: len(b), sum: sha256.Sum256(b)}, nil
}

// matches reports whether f's content still starts with the bytes fp was
// taken from. An empty fingerprint matches anything.
func (fp fingerprint) matches(f *os.File, gz bool) (bool, error) {
	if fp.n == 0 {
		return true, nil
	}
	b, err := prefix(f, gz, fp.n)
	if err != nil || len(b) < fp.n {
		return false, err
	}
	return sha256.Sum256(b) == fp.sum, nil
}
