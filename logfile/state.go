package logfile

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/mailaudit/mailaudit/internal/atomicfile"
)

// StateVersion is the version of the state file format written by Save.
const StateVersion = 1

// ErrLocked is returned (wrapped, naming the lock file) by Lock when
// another process holds the lock: a previous run is still going.
var ErrLocked = errors.New("locked by another run")

// An Entry is the saved position in one followed log: the generation
// (device, inode and fingerprint) and the offset just past the last
// complete line consumed. The zero Entry means "nothing read yet".
type Entry struct {
	// Path is the log's path as given to Resume or Follow.
	Path string `json:"path"`
	// Dev and Inode identify the generation the offset belongs to.
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	// Offset is the byte offset just past the last complete line
	// consumed; in a gzip-compressed generation it counts decompressed
	// bytes.
	Offset int64 `json:"offset"`
	// Line is the number of lines before Offset, so line numbers
	// continue across runs.
	Line int `json:"line"`
	// FPLen and FP are the fingerprint of the generation: the
	// hexadecimal SHA-256 of its first FPLen (≤ FingerprintLen) bytes.
	FPLen int    `json:"fp_len"`
	FP    string `json:"fp"`
	// TailLen and Tail check the position: the hexadecimal SHA-256 of
	// the TailLen (min(Offset, FingerprintLen)) bytes just before Offset.
	// A generation continues the entry only if it still holds those
	// bytes there, which tells apart generations that start alike (a
	// header repeated at each rotation) and catches a file truncated and
	// rewritten past Offset. Zero in entries saved by earlier versions:
	// the check is then skipped.
	TailLen int    `json:"tail_len,omitempty"`
	Tail    string `json:"tail,omitempty"`
}

// IsZero reports whether e is the zero Entry (no saved position).
func (e Entry) IsZero() bool { return e == Entry{} }

// fingerprint returns e's fingerprint. Entries from LoadState are
// validated; a bad FP in a hand-built Entry leaves an all-zero sum, which
// no content hashes to.
func (e Entry) fingerprint() fingerprint {
	fp := fingerprint{n: e.FPLen}
	if b, err := hex.DecodeString(e.FP); err == nil && len(b) == len(fp.sum) {
		copy(fp.sum[:], b)
	}
	return fp
}

// tail returns e's position check (see TailLen), decoded like
// fingerprint.
func (e Entry) tail() fingerprint {
	fp := fingerprint{n: e.TailLen}
	if b, err := hex.DecodeString(e.Tail); err == nil && len(b) == len(fp.sum) {
		copy(fp.sum[:], b)
	}
	return fp
}

// validate checks an entry read from a state file.
func (e Entry) validate() error {
	switch {
	case e.Path == "":
		return errors.New("entry without path")
	case e.Offset < 0 || e.Line < 0:
		return fmt.Errorf("%q: negative offset or line", e.Path)
	case e.FPLen < 0 || e.FPLen > FingerprintLen:
		return fmt.Errorf("%q: fp_len %d out of range", e.Path, e.FPLen)
	case e.FPLen == 0 && e.FP != "":
		return fmt.Errorf("%q: fp without fp_len", e.Path)
	}
	if e.FPLen > 0 {
		if b, err := hex.DecodeString(e.FP); err != nil || len(b) != 32 {
			return fmt.Errorf("%q: fp is not a hex SHA-256", e.Path)
		}
	}
	switch {
	case e.TailLen < 0 || e.TailLen > FingerprintLen || int64(e.TailLen) > e.Offset:
		return fmt.Errorf("%q: tail_len %d out of range", e.Path, e.TailLen)
	case e.TailLen == 0 && e.Tail != "":
		return fmt.Errorf("%q: tail without tail_len", e.Path)
	}
	if e.TailLen > 0 {
		if b, err := hex.DecodeString(e.Tail); err != nil || len(b) != 32 {
			return fmt.Errorf("%q: tail is not a hex SHA-256", e.Path)
		}
	}
	return nil
}

// State is the saved position of every followed log, one Entry per path.
// The zero State is empty and ready to use. A State is not safe for
// concurrent use.
type State struct {
	// Version is the file format version, StateVersion.
	Version int `json:"version"`
	// Files holds one entry per log, in the order they were first set.
	Files []Entry `json:"files"`
}

// LoadState reads the state file at path. A missing or empty file (made
// with touch) yields an empty State (the first run); an unreadable or
// corrupt file is an error naming it.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: StateVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		// Save never leaves an empty file (it renames a complete one
		// into place): this one was made by hand (touch), so no state.
		return &State{Version: StateVersion}, nil
	}
	// The version first: a newer version may have fields this one does
	// not know.
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: corrupt state file: %w", path, err)
	}
	if v.Version != StateVersion {
		return nil, fmt.Errorf("%s: unsupported state version %d (want %d)", path, v.Version, StateVersion)
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: corrupt state file: %w", path, err)
	}
	seen := make(map[string]bool, len(st.Files))
	for _, e := range st.Files {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%s: corrupt state file: %w", path, err)
		}
		if seen[e.Path] {
			return nil, fmt.Errorf("%s: corrupt state file: %q listed twice", path, e.Path)
		}
		seen[e.Path] = true
	}
	return &st, nil
}

// Entry returns the saved entry for path, or the zero Entry.
func (s *State) Entry(path string) Entry {
	for _, e := range s.Files {
		if e.Path == path {
			return e
		}
	}
	return Entry{}
}

// Set records e as the entry for path (e.Path is set to path).
func (s *State) Set(path string, e Entry) {
	e.Path = path
	for i := range s.Files {
		if s.Files[i].Path == path {
			s.Files[i] = e
			return
		}
	}
	s.Files = append(s.Files, e)
}

// Save writes the state to path atomically: a temporary file in the same
// directory is written, synced and renamed over path, and the directory
// is synced. A crash leaves either the old or the new state, never a mix;
// a failed Save leaves the old state file as it was. Errors name path.
func (s *State) Save(path string) error {
	out := State{Version: StateVersion, Files: s.Files}
	if out.Files == nil {
		out.Files = []Entry{}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("%s: saving state: %w", path, err)
	}
	return nil
}

// A FileLock is an exclusive lock held on "<state>.lock".
type FileLock struct {
	f *os.File
}

// Lock takes an exclusive, non-blocking lock on statePath+".lock",
// creating the file if needed. If another process (or another FileLock)
// holds it, Lock returns an error wrapping ErrLocked. The lock is released
// by Unlock or when the process exits.
func Lock(statePath string) (*FileLock, error) {
	name := statePath + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "lock", Path: name, Err: err}
	}
	return &FileLock{f: f}, nil
}

// Unlock releases the lock. The lock file is left in place: removing it
// would race with a run that has just opened it.
func (l *FileLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
