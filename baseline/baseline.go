// Package baseline stores the devices each user logged in from, learned
// across runs, in an embedded SQLite database (modernc.org/sqlite, pure Go).
// It implements rules.Baseline: the new-device rule compares logins
// against it.
//
// Only successful logins are learned (the rules package decides which).
// A login that raised a finding is learned too, right after the finding:
// it is reported once, and the next run knows it. "mailaudit baseline
// forget" undoes a learned device so that it is reported again.
//
// Learned rows are aggregated in memory and written in batches, one
// transaction each; Sync or Close writes the rest. Known answers from
// memory for rows learned or found before, so a busy log costs few
// queries. A DB is safe for concurrent use; several processes may
// share one file (SQLite locking, WAL journal, 5 s busy timeout).
package baseline

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mailaudit/mailaudit/rules"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SchemaVersion is the schema this package writes, kept in PRAGMA
// user_version. Open refuses a database with a newer version.
const SchemaVersion = 1

// FileName is the database's conventional name in the state directory.
const FileName = "baseline.db"

// batchSize is how many distinct learned rows are kept in memory before
// they are written.
const batchSize = 20000

// maxCached bounds the memory of rows known to exist.
const maxCached = 100000

const schema = `
CREATE TABLE IF NOT EXISTS devices (
	user       TEXT    NOT NULL,
	kind       TEXT    NOT NULL, -- address | network | asn | country
	value      TEXT    NOT NULL,
	first_seen INTEGER NOT NULL, -- Unix nanoseconds of event time, 0 if unknown
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (user, kind, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_value ON devices (value);
`

const upsert = `
INSERT INTO devices (user, kind, value, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (user, kind, value) DO UPDATE SET
	first_seen = CASE
		WHEN devices.first_seen = 0 THEN excluded.first_seen
		WHEN excluded.first_seen = 0 THEN devices.first_seen
		ELSE min(devices.first_seen, excluded.first_seen) END,
	last_seen = max(devices.last_seen, excluded.last_seen),
	count = devices.count + excluded.count`

// DB is a baseline database. Close it when done.
type DB struct {
	mu      sync.Mutex
	db      *sql.DB
	path    string
	batch   int              // batchSize, smaller in tests
	pending map[rowKey]*seen // learned, not yet written
	known   map[rowKey]struct{}
	users   map[string]struct{} // users known to have rows
}

type rowKey struct {
	user string
	dev  rules.Device
}

type seen struct {
	first, last int64
	count       int64
}

var _ rules.Baseline = (*DB)(nil)

// Entry is one learned device of one user.
type Entry struct {
	User  string      `json:"user"` // exactly as logged
	Facet rules.Facet `json:"kind"` // address, network, asn or country
	Value string      `json:"value"`
	// FirstSeen and LastSeen are event times in UTC, zero when the
	// lines had no timestamp.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Count is the number of successful logins learned.
	Count int64 `json:"count"`
}

// Open opens or creates the database at path, creating its directory
// (mode 0700) and the file (mode 0600) when missing, and migrating the
// schema.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("baseline: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	d := &DB{db: db, path: path, batch: batchSize}
	d.reset()
	if err := d.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) migrate() error {
	var v int
	if err := d.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	switch {
	case v == SchemaVersion:
		return nil
	case v > SchemaVersion:
		return fmt.Errorf("schema version %d is newer than this mailaudit (%d)", v, SchemaVersion)
	}
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(schema); err != nil {
		return err
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// Path returns the file name the DB was opened with.
func (d *DB) Path() string { return d.path }

// reset empties the caches; d.mu must be held or d unshared.
func (d *DB) reset() {
	d.pending = make(map[rowKey]*seen)
	d.known = make(map[rowKey]struct{})
	d.users = make(map[string]struct{})
}

// Known reports whether dev was learned for user.
func (d *DB) Known(user string, dev rules.Device) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := rowKey{user, dev}
	if _, ok := d.pending[k]; ok {
		return true, nil
	}
	if _, ok := d.known[k]; ok {
		return true, nil
	}
	var one int
	err := d.db.QueryRow(`SELECT 1 FROM devices WHERE user = ? AND kind = ? AND value = ?`,
		user, string(dev.Facet), dev.Value).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("baseline: %w", err)
	}
	d.remember(k)
	return true, nil
}

// HasUser reports whether anything was learned for user.
func (d *DB) HasUser(user string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[user]; ok {
		return true, nil
	}
	var one int
	err := d.db.QueryRow(`SELECT 1 FROM devices WHERE user = ? LIMIT 1`, user).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("baseline: %w", err)
	}
	if len(d.users) < maxCached {
		d.users[user] = struct{}{}
	}
	return true, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// remember caches that k exists; d.mu must be held.
func (d *DB) remember(k rowKey) {
	if len(d.known) >= maxCached {
		clear(d.known)
	}
	d.known[k] = struct{}{}
}

// Learn records a successful login of user from dev at t: it adds the row
// or widens its first/last times and counts it. The row is written by the
// next Sync, Close or full batch.
func (d *DB) Learn(user string, dev rules.Device, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ns := unixNano(t)
	k := rowKey{user, dev}
	if p := d.pending[k]; p != nil {
		if ns != 0 && (p.first == 0 || ns < p.first) {
			p.first = ns
		}
		p.last = max(p.last, ns)
		p.count++
		return nil
	}
	d.pending[k] = &seen{first: ns, last: ns, count: 1}
	if len(d.users) < maxCached {
		d.users[user] = struct{}{}
	}
	if len(d.pending) >= d.batch {
		return d.flush()
	}
	return nil
}

// flush writes the pending rows in one transaction; d.mu must be held.
// The rows stay pending when the write fails.
func (d *DB) flush() error {
	if len(d.pending) == 0 {
		return nil
	}
	keys := make([]rowKey, 0, len(d.pending))
	for k := range d.pending {
		keys = append(keys, k)
	}
	// A stable order keeps writes (and any error) reproducible.
	slices.SortFunc(keys, func(a, b rowKey) int {
		return cmp.Or(cmp.Compare(a.user, b.user), cmp.Compare(a.dev.Facet, b.dev.Facet), cmp.Compare(a.dev.Value, b.dev.Value))
	})
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.Prepare(upsert)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer st.Close()
	for _, k := range keys {
		p := d.pending[k]
		if _, err := st.Exec(k.user, string(k.dev.Facet), k.dev.Value, p.first, p.last, p.count); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	for _, k := range keys {
		d.remember(k)
	}
	clear(d.pending)
	return nil
}

// Sync writes the rows learned so far.
func (d *DB) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flush()
}

// Close writes the rows learned so far and closes the database.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.flush()
	return errors.Join(err, d.db.Close())
}

// List returns the learned devices of user, or of every user when user is
// empty, ordered by user, kind (address, network, asn, country) and value.
func (d *DB) List(user string) ([]Entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(); err != nil {
		return nil, err
	}
	const order = ` ORDER BY user, CASE kind WHEN 'address' THEN 1 WHEN 'network' THEN 2
		WHEN 'asn' THEN 3 WHEN 'country' THEN 4 ELSE 5 END, kind, value`
	const cols = `SELECT user, kind, value, first_seen, last_seen, count FROM devices`
	var (
		rows *sql.Rows
		err  error
	)
	if user == "" {
		rows, err = d.db.Query(cols + order)
	} else {
		rows, err = d.db.Query(cols+` WHERE user = ?`+order, user)
	}
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e           Entry
			kind        string
			first, last int64
		)
		if err := rows.Scan(&e.User, &kind, &e.Value, &first, &last, &e.Count); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		e.Facet = rules.Facet(kind)
		e.FirstSeen, e.LastSeen = fromNano(first), fromNano(last)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return out, nil
}

func fromNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// NormalizeValue spells a device value as the baseline stores it:
// addresses and networks canonical (IPv4-mapped addresses unmapped,
// network host bits cleared), "as8075" as "AS8075", "de" as "DE".
// Anything else is returned unchanged.
func NormalizeValue(v string) string {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().WithZone("").String()
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked().String()
	}
	if len(v) > 2 && strings.EqualFold(v[:2], "as") {
		if n, err := strconv.ParseUint(v[2:], 10, 32); err == nil {
			return "AS" + strconv.FormatUint(n, 10)
		}
	}
	if len(v) == 2 && strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
		return strings.ToUpper(v)
	}
	return v
}

// Forget deletes what was learned for user: the rows whose value is value
// (of whatever kind; see NormalizeValue), or every row of user when value
// is empty. It returns the number of rows deleted.
func (d *DB) Forget(user, value string) (int, error) {
	value = NormalizeValue(value)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(); err != nil {
		return 0, err
	}
	d.reset() // forgotten rows must not stay "known"
	var (
		res sql.Result
		err error
	)
	if value == "" {
		res, err = d.db.Exec(`DELETE FROM devices WHERE user = ?`, user)
	} else {
		res, err = d.db.Exec(`DELETE FROM devices WHERE user = ? AND value = ?`, user, value)
	}
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	return int(n), nil
}
