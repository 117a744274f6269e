package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/mailaudit/mailaudit/internal/atomicfile"
)

// Forget is how long a Memory remembers that a finding was sent: long
// past the point where a resumed run could meet it again.
const Forget = 30 * 24 * time.Hour

// A Memory remembers, per target, which items were sent (by Key) and which
// are owed. It lives in a small JSON file written atomically, or in memory
// only when its path is empty.
type Memory struct {
	path    string
	Version int                      `json:"version"`
	Targets map[string]*targetMemory `json:"targets"`
}

type targetMemory struct {
	Name    string               `json:"name"` // the redacted target, for people
	Sent    map[string]time.Time `json:"sent"`
	Pending []Item               `json:"pending"`
}

// NewMemory returns an empty Memory that Save writes to path ("" keeps it
// in memory only).
func NewMemory(path string) *Memory {
	return &Memory{path: path, Version: 1, Targets: map[string]*targetMemory{}}
}

// LoadMemory reads the Memory at path; a missing file is an empty Memory.
func LoadMemory(path string) (*Memory, error) {
	m := NewMemory(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(m); err != nil {
		return nil, fmt.Errorf("%s: %v (remove it to start afresh: findings already sent may then be sent again)", path, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: unknown version %d", path, m.Version)
	}
	if m.Targets == nil {
		m.Targets = map[string]*targetMemory{}
	}
	for _, tm := range m.Targets {
		if tm.Sent == nil {
			tm.Sent = map[string]time.Time{}
		}
	}
	return m, nil
}

// Save writes m to its file atomically (mode 0600: webhook bodies name
// users and addresses); it does nothing for a Memory without a path.
func (m *Memory) Save() error {
	if m.path == "" {
		return nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(m.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("notify memory: %w", err)
	}
	return nil
}

// target returns the memory of t, keyed by a hash of its full URL (which
// may hold a token the file should not).
func (m *Memory) target(t Target) *targetMemory {
	sum := sha256.Sum256([]byte(t.raw))
	k := hex.EncodeToString(sum[:8])
	tm := m.Targets[k]
	if tm == nil {
		tm = &targetMemory{Sent: map[string]time.Time{}}
		m.Targets[k] = tm
	}
	tm.Name = t.String()
	return tm
}

// prune forgets what was sent longer than Forget before now.
func (m *Memory) prune(now time.Time) {
	for _, tm := range m.Targets {
		for k, at := range tm.Sent {
			if now.Sub(at) > Forget {
				delete(tm.Sent, k)
			}
		}
	}
}
