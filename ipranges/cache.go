package ipranges

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/mailaudit/mailaudit/internal/atomicfile"
)

// DefaultCacheDir returns where `ranges update` stores the feeds:
// /var/lib/mailaudit when running as root, else $XDG_CACHE_HOME/mailaudit,
// else ~/.cache/mailaudit (os.UserCacheDir's platform equivalent elsewhere).
func DefaultCacheDir() (string, error) {
	return defaultCacheDir(os.Geteuid(), os.UserCacheDir)
}

func defaultCacheDir(euid int, userCache func() (string, error)) (string, error) {
	if euid == 0 {
		return "/var/lib/mailaudit", nil
	}
	d, err := userCache()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	return filepath.Join(d, "mailaudit"), nil
}

// cacheFile is the normalized on-disk form of one downloaded source.
type cacheFile struct {
	Source   string       `json:"source"`
	URL      string       `json:"url"`
	Date     string       `json:"date"`
	Fetched  time.Time    `json:"fetched"`
	Prefixes []cacheEntry `json:"prefixes"`
}

type cacheEntry struct {
	Prefix string `json:"prefix"`
	Label  string `json:"label"`
	Detail string `json:"detail,omitempty"`
}

// meta is meta.json: the per-install client id and the polling record.
type meta struct {
	// ClientRequestID is the Microsoft 365 web service's per-install GUID.
	ClientRequestID string `json:"clientrequestid"`
	// Checked is when each source was last checked successfully.
	Checked map[string]time.Time `json:"checked"`
	// Backoff is, per source, the earliest next try after an HTTP 429.
	Backoff map[string]time.Time `json:"backoff,omitempty"`
}

const metaName = "meta.json"

// cachePath returns the cache file of source name in dir.
func cachePath(dir, name string) string { return filepath.Join(dir, name+".json") }

// readCacheFile loads one normalized source file. A missing file returns an
// error satisfying errors.Is(err, fs.ErrNotExist).
func readCacheFile(path string, known map[string]LabelInfo) (*cacheFile, []entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var f cacheFile
	if err := decodeJSON(path, data, &f); err != nil {
		return nil, nil, err
	}
	es := make([]entry, 0, len(f.Prefixes))
	for i, c := range f.Prefixes {
		p, err := prefixAt(path, c.Prefix, "$.prefixes[%d].prefix", i)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := known[c.Label]; !ok {
			return nil, nil, &ParseError{File: path, Path: fmt.Sprintf("$.prefixes[%d].label", i), Text: c.Label, Err: errors.New("unknown label")}
		}
		es = append(es, entry{Prefix: p, Label: c.Label, Detail: c.Detail})
	}
	return &f, es, nil
}

// writeCacheFile stores a source atomically.
func writeCacheFile(dir string, f *cacheFile, es []entry) error {
	f.Prefixes = make([]cacheEntry, len(es))
	for i, e := range es {
		f.Prefixes[i] = cacheEntry{Prefix: e.Prefix.String(), Label: e.Label, Detail: e.Detail}
	}
	data, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(cachePath(dir, f.Source), data)
}

// readMeta loads meta.json, creating a fresh client id when there is none.
// It reports whether m is new (needs saving).
func readMeta(dir string) (m meta, fresh bool, err error) {
	path := filepath.Join(dir, metaName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fresh = true
	case err != nil:
		return m, false, err
	default:
		if err := decodeJSON(path, data, &m); err != nil {
			return m, false, err
		}
	}
	if m.Checked == nil {
		m.Checked = map[string]time.Time{}
	}
	if m.Backoff == nil {
		m.Backoff = map[string]time.Time{}
	}
	if !uuidRE.MatchString(m.ClientRequestID) {
		m.ClientRequestID = newUUID()
		fresh = true
	}
	return m, fresh, nil
}

func writeMeta(dir string, m meta) error {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, metaName), data)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand docs)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeAtomic replaces path with data (mode 0644) atomically.
func writeAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
