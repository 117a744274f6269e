// Package baseline stores the devices each user logged in from, learned
// across runs, in an embedded SQLite database (modernc.org/sqlite, pure Go).
// It implements rules.Baseline: the new-device rule compares logins
// against it.
//
// Only successful logins are learned (the rules package decides which).
// A login that raised a low or medium finding is learned right after the
// finding: it is reported once, and the next run knows it. A login that
// raised a finding of high or above is quarantined instead (table
// quarantine): never learned, listed by "mailaudit baseline list", and
// learned only when an admin confirms it ("mailaudit baseline confirm").
// "mailaudit baseline forget" undoes a learned device so that it is
// reported again. The rules' attack state between runs (windows, waiting
// failures, campaigns, accused sources) is kept in table state.
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
const SchemaVersion = 2

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
CREATE TABLE IF NOT EXISTS quarantine (
	user       TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	rule       TEXT    NOT NULL, -- the finding that kept it out
	PRIMARY KEY (user, kind, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
	name    TEXT    PRIMARY KEY,
	version INTEGER NOT NULL,
	saved   INTEGER NOT NULL, -- Unix nanoseconds, wall clock
	data    BLOB    NOT NULL
);
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
	// allUsers says users holds every user with rows (they were few
	// enough to load at once): a name not in it has none, without a
	// query. Attacker-chosen names are asked about by the million.
	allUsers    bool
	usersLoaded bool                  // loadUsers ran since the last reset
	noUsers     map[string]struct{}   // users known to have none (until Learn)
	anyKnown    map[rules.Device]bool // KnownAnywhere answers
	stats       map[string]*userStats // Since answers, kept current by Learn
}

// userStats is what Since reports for one user.
type userStats struct {
	first  int64 // Unix ns, 0 when unknown
	logins int64
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
	d.noUsers = make(map[string]struct{})
	d.anyKnown = make(map[rules.Device]bool)
	d.stats = make(map[string]*userStats)
	d.allUsers, d.usersLoaded = false, false
}

// loadUsers loads every user with rows into d.users, when there are at
// most maxCached, once after each reset; d.mu must be held.
func (d *DB) loadUsers() error {
	if d.usersLoaded {
		return nil
	}
	d.usersLoaded = true
	rows, err := d.db.Query(`SELECT DISTINCT user FROM devices LIMIT ?`, maxCached+1)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		names = append(names, u)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if len(names) > maxCached {
		return nil
	}
	for _, u := range names {
		d.users[u] = struct{}{}
	}
	for k := range d.pending {
		d.users[k.user] = struct{}{}
	}
	d.allUsers = len(d.users) <= maxCached
	return nil
}

// hasNoRows reports whether user is known to have no rows; d.mu must be
// held.
func (d *DB) hasNoRows(user string) (bool, error) {
	if err := d.loadUsers(); err != nil {
		return false, err
	}
	if d.allUsers {
		_, ok := d.users[user]
		return !ok, nil
	}
	_, none := d.noUsers[user]
	return none, nil
}

// addUser notes that user has rows; d.mu must be held.
func (d *DB) addUser(user string) {
	if _, ok := d.users[user]; ok {
		return
	}
	if len(d.users) < maxCached {
		d.users[user] = struct{}{}
	} else {
		d.allUsers = false // no longer complete
	}
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
	if none, err := d.hasNoRows(user); none || err != nil {
		return false, err
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
	if none, err := d.hasNoRows(user); none || err != nil {
		return false, err
	}
	var one int
	err := d.db.QueryRow(`SELECT 1 FROM devices WHERE user = ? LIMIT 1`, user).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		// Attacker-chosen names are asked about again and again.
		if len(d.noUsers) >= maxCached {
			clear(d.noUsers)
		}
		d.noUsers[user] = struct{}{}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("baseline: %w", err)
	}
	d.addUser(user)
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
	if dev.Facet == rules.FacetAddress || dev.Facet == rules.FacetProvider {
		st, err := d.userStats(user)
		if err != nil {
			return err
		}
		st.logins++
		if ns != 0 && (st.first == 0 || ns < st.first) {
			st.first = ns
		}
	}
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
	delete(d.noUsers, user)
	if err := d.loadUsers(); err != nil {
		return err
	}
	d.addUser(user)
	if len(d.anyKnown) < maxCached {
		d.anyKnown[dev] = true
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

// userStats returns the cached stats of user, reading them from the
// database the first time; d.mu must be held. Stats count the rows
// written and, from then on, every Learn.
func (d *DB) userStats(user string) (*userStats, error) {
	if st := d.stats[user]; st != nil {
		return st, nil
	}
	if len(d.stats) >= maxCached {
		// Re-reading must see every row: write the pending ones first.
		if err := d.flush(); err != nil {
			return nil, err
		}
		clear(d.stats)
	}
	if none, err := d.hasNoRows(user); err != nil {
		return nil, err
	} else if none {
		st := &userStats{}
		d.stats[user] = st
		return st, nil
	}
	var first, n sql.NullInt64
	err := d.db.QueryRow(`SELECT min(CASE WHEN first_seen > 0 THEN first_seen END), sum(count)
		FROM devices WHERE user = ? AND kind IN ('address', 'provider')`, user).Scan(&first, &n)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	// Rows of this user still pending were learned before the stats were
	// cached: count them too.
	st := &userStats{first: first.Int64, logins: n.Int64}
	for k, p := range d.pending {
		if k.user == user && (k.dev.Facet == rules.FacetAddress || k.dev.Facet == rules.FacetProvider) {
			st.logins += p.count
			if p.first != 0 && (st.first == 0 || p.first < st.first) {
				st.first = p.first
			}
		}
	}
	d.stats[user] = st
	return st, nil
}

// Since returns the event time of user's first learned login and the
// number of logins learned (address or provider facet).
func (d *DB) Since(user string) (time.Time, int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.userStats(user)
	if err != nil {
		return time.Time{}, 0, err
	}
	return fromNano(st.first), st.logins, nil
}

// KnownAnywhere reports whether any user learned dev.
func (d *DB) KnownAnywhere(dev rules.Device) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok, cached := d.anyKnown[dev]; cached {
		return ok, nil
	}
	var one int
	err := d.db.QueryRow(`SELECT 1 FROM devices WHERE value = ? AND kind = ? LIMIT 1`, dev.Value, string(dev.Facet)).Scan(&one)
	ok := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("baseline: %w", err)
	}
	if !ok {
		// Pending rows are in the cache as true; one that was cleared
		// with the cache is looked for here.
		for k := range d.pending {
			if k.dev == dev {
				ok = true
				break
			}
		}
	}
	if len(d.anyKnown) >= maxCached {
		clear(d.anyKnown)
	}
	d.anyKnown[dev] = ok
	return ok, nil
}

// Quarantine keeps dev out of user's learned devices: a login from it
// raised a finding of severity high or above (rule). A row learned before
// is removed.
func (d *DB) Quarantine(user string, dev rules.Device, t time.Time, rule string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := rowKey{user, dev}
	delete(d.pending, k)
	delete(d.known, k)
	delete(d.anyKnown, dev)
	ns := unixNano(t)
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM devices WHERE user = ? AND kind = ? AND value = ?`, user, string(dev.Facet), dev.Value); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if _, err := tx.Exec(`INSERT INTO quarantine (user, kind, value, first_seen, last_seen, count, rule) VALUES (?, ?, ?, ?, ?, 1, ?)
		ON CONFLICT (user, kind, value) DO UPDATE SET
			last_seen = max(quarantine.last_seen, excluded.last_seen),
			count = quarantine.count + 1`, user, string(dev.Facet), dev.Value, ns, ns, rule); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	return tx.Commit()
}

// QuarantineEntry is one device kept out of a user's baseline.
type QuarantineEntry struct {
	Entry
	// Rule is the finding that kept it out.
	Rule string `json:"rule"`
}

// ListQuarantine returns the quarantined devices of user, or of every
// user when user is empty, ordered like List.
func (d *DB) ListQuarantine(user string) ([]QuarantineEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := `SELECT user, kind, value, first_seen, last_seen, count, rule FROM quarantine`
	args := []any{}
	if user != "" {
		q += ` WHERE user = ?`
		args = append(args, user)
	}
	rows, err := d.db.Query(q+` ORDER BY user, kind, value`, args...)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer rows.Close()
	var out []QuarantineEntry
	for rows.Next() {
		var (
			e           QuarantineEntry
			kind        string
			first, last int64
		)
		if err := rows.Scan(&e.User, &kind, &e.Value, &first, &last, &e.Count, &e.Rule); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		e.Facet = rules.Facet(kind)
		e.FirstSeen, e.LastSeen = fromNano(first), fromNano(last)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Confirm learns the quarantined devices of user whose value is value
// (see NormalizeValue): an admin vouches for them. It returns how many
// were confirmed.
func (d *DB) Confirm(user, value string) (int, error) {
	value = NormalizeValue(value)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(); err != nil {
		return 0, err
	}
	tx, err := d.db.Begin()
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO devices (user, kind, value, first_seen, last_seen, count)
		SELECT user, kind, value, first_seen, last_seen, count FROM quarantine WHERE user = ? AND value = ?
		ON CONFLICT (user, kind, value) DO UPDATE SET count = devices.count + excluded.count`, user, value); err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	res, err := tx.Exec(`DELETE FROM quarantine WHERE user = ? AND value = ?`, user, value)
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	d.reset()
	return int(n), nil
}

// SaveState stores data as the state called name (the rules' attack
// state), with the version of its format, replacing what was there.
func (d *DB) SaveState(name string, version int, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(); err != nil {
		return err
	}
	_, err := d.db.Exec(`INSERT INTO state (name, version, saved, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, saved = excluded.saved, data = excluded.data`,
		name, version, time.Now().UnixNano(), data)
	if err != nil {
		return fmt.Errorf("baseline: %s: %w", d.path, err)
	}
	return nil
}

// LoadState returns the state called name and its format version; nil
// data when none was saved.
func (d *DB) LoadState(name string) (data []byte, version int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	err = d.db.QueryRow(`SELECT version, data FROM state WHERE name = ?`, name).Scan(&version, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("baseline: %s: %w", d.path, err)
	}
	return data, version, nil
}
