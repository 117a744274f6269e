package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

// LoginServices are the services of UserRow.LastLoginByService, in order.
var LoginServices = []string{"imap", "pop3", "smtp", "submission", "managesieve"}

// Limits of what a Users keeps.
const (
	// UserAddressLimit is how many distinct addresses (and own-device
	// addresses) a Users keeps per user; beyond it the counts are lower
	// bounds.
	UserAddressLimit = 1000
	// failureOnlyLimit bounds the names kept that only failed: they are
	// attacker-chosen and never shown unless they log in.
	failureOnlyLimit = 100000
)

// Users answers "when did each user last log in, by IMAP/POP and by
// SMTP?": per user (compared as the rules compare them, see
// rules.CanonicalUser), the last successful login overall and per service,
// the logins, addresses, own devices, intermediaries, mechanisms, TLS use,
// and the failed logins. Only users with a successful login are shown:
// the names of failed logins alone are chosen by whoever connects. A
// Users can be saved as a [UsersRecord] and merged with a later one, so
// that a record kept across runs answers across log rotations. Create it
// with [NewUsers]; it is not safe for concurrent use.
type Users struct {
	m            map[string]*UserRecord
	failureNames int
}

// UserRecord is what a Users knows of one user; it is the JSON form of a
// saved record too.
type UserRecord struct {
	LastLogin          time.Time            `json:"last_login"`
	LastLoginByService map[string]time.Time `json:"last_login_by_service,omitempty"`
	Logins             int64                `json:"logins"`
	Addresses          []string             `json:"addresses,omitempty"`
	Devices            []string             `json:"devices,omitempty"`
	Intermediaries     []string             `json:"intermediaries,omitempty"`
	Mechanisms         []string             `json:"mechanisms,omitempty"`
	TLSLogins          int64                `json:"tls_logins"`
	PlainLogins        int64                `json:"plain_logins"`
	LastFailure        time.Time            `json:"last_failure"`
	Failures           int64                `json:"failures"`
}

// UsersRecord is a Users as saved between runs: version 1, users by
// canonical name.
type UsersRecord struct {
	Version int                    `json:"version"`
	Users   map[string]*UserRecord `json:"users"`
}

// NewUsers returns an empty Users.
func NewUsers() *Users { return &Users{m: make(map[string]*UserRecord)} }

// Add counts ev: successful logins (Dovecot login lines, Postfix SASL
// lines) and failed ones (probes excepted, see [IsProbe]); events without
// a user name are ignored.
func (u *Users) Add(ev parse.Event, o ipranges.Origin) {
	if !ev.HasUser || ev.User == "" || (ev.Kind != parse.KindLogin && ev.Kind != parse.KindSASL) {
		return
	}
	name := rules.CanonicalUser(ev.User)
	if name == "" {
		return
	}
	r := u.m[name]
	switch {
	case ev.Result == parse.Success && !ev.Refused:
	case ev.Result == parse.Failure || (ev.Result == parse.Aborted && !IsProbe(ev)):
		if r == nil {
			if u.failureNames >= failureOnlyLimit {
				return
			}
			u.failureNames++
		}
	default:
		return
	}
	if r == nil {
		r = &UserRecord{}
		u.m[strings.Clone(name)] = r
	}
	if ev.Result != parse.Success {
		r.Failures += int64(max(ev.Attempts, 1))
		r.LastFailure = later(r.LastFailure, ev.Time)
		return
	}
	r.Logins++
	r.LastLogin = later(r.LastLogin, ev.Time)
	if slices.Contains(LoginServices, ev.Service) {
		if r.LastLoginByService == nil {
			r.LastLoginByService = map[string]time.Time{}
		}
		r.LastLoginByService[ev.Service] = later(r.LastLoginByService[ev.Service], ev.Time)
	}
	addr := keyOf(ev).String()
	r.Addresses = addCapped(r.Addresses, addr, UserAddressLimit)
	switch o.Class {
	case ipranges.Intermediary:
		if p := strings.TrimSpace(o.Provider + " " + o.Product); p != "" {
			r.Intermediaries = addCapped(r.Intermediaries, p, UserAddressLimit)
		}
	case ipranges.Device:
		r.Devices = addCapped(r.Devices, addr, UserAddressLimit)
	}
	if ev.Method != "" {
		r.Mechanisms = addCapped(r.Mechanisms, ev.Method, MechanismLimit)
	}
	switch ev.TLS {
	case parse.TLSYes:
		r.TLSLogins++
	case parse.TLSNo:
		r.PlainLogins++
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addCapped adds v to the set list when it is not there and the list has
// fewer than limit values.
func addCapped(list []string, v string, limit int) []string {
	if slices.Contains(list, v) || len(list) >= limit {
		return list
	}
	return append(list, strings.Clone(v))
}

// Record returns what u knows of the users that logged in, to be saved.
func (u *Users) Record() UsersRecord {
	out := UsersRecord{Version: 1, Users: map[string]*UserRecord{}}
	for name, r := range u.m {
		if r.Logins > 0 {
			out.Users[name] = r
		}
	}
	return out
}

// Merge adds a saved record to u: the later times, the sums of the counts,
// the unions of the lists.
func (u *Users) Merge(rec UsersRecord) {
	for name, o := range rec.Users {
		if o == nil {
			continue
		}
		r := u.m[name]
		if r == nil {
			r = &UserRecord{}
			u.m[name] = r
		}
		r.LastLogin = later(r.LastLogin, o.LastLogin)
		for s, t := range o.LastLoginByService {
			if r.LastLoginByService == nil {
				r.LastLoginByService = map[string]time.Time{}
			}
			r.LastLoginByService[s] = later(r.LastLoginByService[s], t)
		}
		r.Logins += o.Logins
		for _, a := range o.Addresses {
			r.Addresses = addCapped(r.Addresses, a, UserAddressLimit)
		}
		for _, a := range o.Devices {
			r.Devices = addCapped(r.Devices, a, UserAddressLimit)
		}
		for _, a := range o.Intermediaries {
			r.Intermediaries = addCapped(r.Intermediaries, a, UserAddressLimit)
		}
		for _, a := range o.Mechanisms {
			r.Mechanisms = addCapped(r.Mechanisms, a, MechanismLimit)
		}
		r.TLSLogins += o.TLSLogins
		r.PlainLogins += o.PlainLogins
		r.LastFailure = later(r.LastFailure, o.LastFailure)
		r.Failures += o.Failures
	}
}

// UserRow is one row of the users report.
type UserRow struct {
	User               string
	LastLogin          time.Time
	LastLoginByService map[string]time.Time
	Logins             int64
	// Addresses and Devices count the distinct addresses, and those of
	// own devices (not an intermediary, hosting or private network).
	Addresses, Devices int
	// Intermediaries lists "provider product" of the cloud services that
	// logged in for the user, Mechanisms the SASL mechanisms, sorted.
	Intermediaries, Mechanisms []string
	// TLS is "all", "some" or "none" of the logins that told; "" when
	// none told.
	TLS         string
	LastFailure time.Time
	Failures    int64
}

// Rows returns one row per user with a successful login, sorted by name;
// with inactiveSince set, only those whose last login is before it.
func (u *Users) Rows(inactiveSince time.Time) []UserRow {
	var out []UserRow
	for _, name := range slices.Sorted(maps.Keys(u.m)) {
		r := u.m[name]
		if r.Logins == 0 || (!inactiveSince.IsZero() && !r.LastLogin.Before(inactiveSince)) {
			continue
		}
		row := UserRow{
			User: name, LastLogin: r.LastLogin, LastLoginByService: r.LastLoginByService, Logins: r.Logins,
			Addresses: len(r.Addresses), Devices: len(r.Devices),
			Intermediaries: slices.Sorted(slices.Values(r.Intermediaries)),
			Mechanisms:     slices.Sorted(slices.Values(r.Mechanisms)),
			LastFailure:    r.LastFailure, Failures: r.Failures,
		}
		switch {
		case r.TLSLogins > 0 && r.PlainLogins == 0:
			row.TLS = "all"
		case r.TLSLogins > 0:
			row.TLS = "some"
		case r.PlainLogins > 0:
			row.TLS = "none"
		}
		out = append(out, row)
	}
	return out
}

// appendUserRow appends the JSON object of a users row. Keys, always all
// present and in this order: user, last_login, last_login_by_service
// (an object with every service of LoginServices; null when never),
// logins, addresses, devices, intermediaries, mechanisms, tls (null when
// unknown), last_failure, failures. Times are RFC 3339, null when none.
func appendUserRow(b []byte, r UserRow) []byte {
	b = append(b, `{"user":`...)
	b = appendString(b, r.User)
	b = append(b, `,"last_login":`...)
	b = appendTime(b, r.LastLogin)
	b = append(b, `,"last_login_by_service":{`...)
	for i, s := range LoginServices {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
		b = append(b, ':')
		b = appendTime(b, r.LastLoginByService[s])
	}
	b = append(b, `},"logins":`...)
	b = appendInt(b, r.Logins)
	b = append(b, `,"addresses":`...)
	b = appendInt(b, int64(r.Addresses))
	b = append(b, `,"devices":`...)
	b = appendInt(b, int64(r.Devices))
	b = append(b, `,"intermediaries":`...)
	b = appendStrings(b, r.Intermediaries)
	b = append(b, `,"mechanisms":`...)
	b = appendStrings(b, r.Mechanisms)
	b = append(b, `,"tls":`...)
	b = appendStringOrNull(b, r.TLS)
	b = append(b, `,"last_failure":`...)
	b = appendTime(b, r.LastFailure)
	b = append(b, `,"failures":`...)
	b = appendInt(b, r.Failures)
	return append(b, '}')
}

// WriteUsers writes the users report, rows as Rows returns them, in
// format f:
//
//   - [Table]: one row per user (shown as records when too wide);
//   - [JSON]: {"users": [...]}, each row as appendUserRow documents;
//   - [JSONL]: one row object per line;
//   - [CSV]: the row keys as columns, last_login_by_service flattened
//     into last_login_by_service_SERVICE, lists joined by spaces;
//   - [HTML]: a self-contained page of the table.
func WriteUsers(w io.Writer, f Format, rows []UserRow, title string) error {
	switch f {
	case Table:
		return writeUsersTable(w, rows, title)
	case HTML:
		return writeHTMLDoc(w, "Users", func(p *htmlPage) error { return writeUsersTable(p, rows, title) })
	case JSON, JSONL:
		var b []byte
		if f == JSON {
			b = append(b, `{"users": [`...)
		}
		for i, r := range rows {
			if f == JSON {
				b = sep(b, i)
			}
			b = appendUserRow(b, r)
			if f == JSONL {
				b = append(b, '\n')
			}
		}
		if f == JSON {
			b = append(endList(b, len(rows) > 0), "}\n"...)
		}
		_, err := w.Write(b)
		return err
	case CSV:
		js := make([][]byte, len(rows))
		for i, r := range rows {
			js[i] = appendUserRow(nil, r)
		}
		return writeJSONRowsCSV(w, appendUserRow(nil, UserRow{}), slices.Values(js))
	}
	return errQuestionFormat(f)
}

func writeUsersTable(w io.Writer, rows []UserRow, title string) error {
	if err := writeTitle(w, fmt.Sprintf("%s (%d)", title, len(rows))); err != nil {
		return err
	}
	if len(rows) == 0 {
		return none(w)
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		var by []string
		for _, s := range LoginServices {
			if t := r.LastLoginByService[s]; !t.IsZero() {
				by = append(by, s+" "+tableTime(t))
			}
		}
		out = append(out, []string{
			Sanitize(r.User), tableTime(r.LastLogin), dash(strings.Join(by, ", ")),
			strconv.FormatInt(r.Logins, 10), strconv.Itoa(r.Addresses), strconv.Itoa(r.Devices),
			dash(capList(r.Intermediaries, len(r.Intermediaries))), dash(capList(r.Mechanisms, len(r.Mechanisms))),
			dash(r.TLS), tableTime(r.LastFailure), strconv.FormatInt(r.Failures, 10),
		})
	}
	return renderTable(w, []string{"user", "last login", "last login by service", "logins", "addresses", "devices",
		"intermediaries", "mechanisms", "tls", "last failure", "failures"}, out, []int{3, 4, 5, 10})
}
