package report

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// This file holds the accumulators behind `mailaudit report`: each answers
// one question an admin brings to the logs. They are fed the same
// (parse.Event, ipranges.Origin) pairs as a [Summary], count successful
// logins only, and keep memory bounded by their distinct keys.

// MechanismLimit is how many distinct SASL mechanisms a mechanisms or
// insecure row keeps by name; logins with further mechanisms are still
// counted, in the row's OtherMechanisms. Successful logins carry mechanisms
// the server accepted, so the limit only guards against hostile input.
const MechanismLimit = 8

// AuthClass says what a SASL mechanism sends: the user's password (in
// the clear or hashed) or a token.
type AuthClass string

// The classes of SASL mechanisms.
const (
	// PasswordAuth is "basic authentication": the mechanism proves
	// knowledge of the user's password, in the clear (PLAIN, LOGIN) or
	// as a challenge-response (CRAM-MD5, DIGEST-MD5, SCRAM-*, NTLM, APOP,
	// OTP, SKEY, RPA). Providers that retire basic authentication break
	// every one of these.
	PasswordAuth AuthClass = "password"
	// TokenAuth is an OAuth 2.0 bearer token: XOAUTH2 or OAUTHBEARER.
	TokenAuth AuthClass = "token"
	// OtherAuth is any other mechanism: EXTERNAL (client certificate),
	// GSSAPI / GS2-KRB5 (Kerberos), ANONYMOUS, or a name mailaudit does
	// not know.
	OtherAuth AuthClass = "other"
	// UnknownAuth means the line did not name a mechanism.
	UnknownAuth AuthClass = "unknown"
)

// ClassifyMechanism returns the class of the SASL mechanism name m,
// compared without regard to case.
func ClassifyMechanism(m string) AuthClass {
	if m == "" {
		return UnknownAuth
	}
	u := strings.ToUpper(m)
	switch u {
	case "XOAUTH2", "OAUTHBEARER":
		return TokenAuth
	case "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "NTLM", "APOP", "OTP", "SKEY", "RPA":
		return PasswordAuth
	}
	if strings.HasPrefix(u, "SCRAM-") {
		return PasswordAuth
	}
	return OtherAuth
}

// countsAsLogin reports whether ev is a successful login: a Dovecot login
// line or a Postfix SASL line with Result Success. Auth-process detail
// lines never count (the login line of the same attempt does).
func countsAsLogin(ev parse.Event) bool {
	return ev.Result == parse.Success && (ev.Kind == parse.KindLogin || ev.Kind == parse.KindSASL)
}

// MechanismUse is how often one SASL mechanism was used.
type MechanismUse struct {
	// Name is the mechanism as logged (upper case), "" when the line did
	// not name one.
	Name        string
	Class       AuthClass
	Count       int64
	First, Last time.Time
}

// mechSet is a bounded list of mechanism uses.
type mechSet struct {
	uses  []MechanismUse
	other int64 // logins with a mechanism beyond MechanismLimit
}

func (m *mechSet) add(name string, t time.Time) {
	for i := range m.uses {
		if m.uses[i].Name == name {
			u := &m.uses[i]
			u.Count++
			sp := span{u.First, u.Last}
			sp.add(t)
			u.First, u.Last = sp.first, sp.last
			return
		}
	}
	if len(m.uses) >= MechanismLimit {
		m.other++
		return
	}
	u := MechanismUse{Name: strings.Clone(name), Class: ClassifyMechanism(name), Count: 1}
	sp := span{}
	sp.add(t)
	u.First, u.Last = sp.first, sp.last
	m.uses = append(m.uses, u)
}

// sorted returns the uses sorted by name.
func (m *mechSet) sorted() []MechanismUse {
	out := slices.Clone(m.uses)
	slices.SortFunc(out, func(a, b MechanismUse) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Mechanisms answers "who still uses basic authentication?": per user and
// client address, the SASL mechanisms of the successful logins. Create it
// with [NewMechanisms]; it is not safe for concurrent use. Its memory grows
// with the distinct (user, address) pairs that logged in.
type Mechanisms struct {
	rows map[pairKey]*mechStat
}

type mechStat struct {
	count int64
	span
	services uint8
	mechs    mechSet
	origin   ipranges.Origin
}

// NewMechanisms returns an empty Mechanisms.
func NewMechanisms() *Mechanisms {
	return &Mechanisms{rows: make(map[pairKey]*mechStat)}
}

// Add counts ev when it is a successful login (Dovecot login line or
// Postfix SASL line); other events are ignored. o is the origin of ev's
// address; the first one given for an address is kept.
func (m *Mechanisms) Add(ev parse.Event, o ipranges.Origin) {
	if !countsAsLogin(ev) {
		return
	}
	key := pairKey{user: ev.User, hasUser: ev.HasUser, addr: keyOf(ev)}
	r := m.rows[key]
	if r == nil {
		key.user = strings.Clone(key.user)
		key.addr.text = strings.Clone(key.addr.text)
		r = &mechStat{}
		m.rows[key] = r
	}
	r.count++
	r.span.add(ev.Time)
	r.services |= serviceBit(ev.Service)
	r.mechs.add(ev.Method, ev.Time)
	if r.origin.IsZero() {
		r.origin = o
	}
}

// MechanismRow is the successful logins of one user from one address.
type MechanismRow struct {
	User    string
	HasUser bool
	// RemoteIP is the address in canonical form, or as logged when it
	// did not parse.
	RemoteIP string
	// Services lists the services used, in the order of Login.Services.
	Services []string
	// Mechanisms lists the mechanisms used, sorted by name;
	// OtherMechanisms counts the logins with a mechanism beyond
	// MechanismLimit (0 unless the input is hostile).
	Mechanisms      []MechanismUse
	OtherMechanisms int64
	// Password reports whether a password mechanism was used: a switch
	// to OAuth-only would break this user on this address. Token reports
	// whether an OAuth token mechanism was used.
	Password, Token bool
	// Count is the number of successful logins.
	Count       int64
	First, Last time.Time
	Origin      ipranges.Origin
}

// Rows returns one row per user and address, sorted by user, then
// address.
func (m *Mechanisms) Rows() []MechanismRow {
	keys := slices.SortedFunc(maps.Keys(m.rows), comparePair)
	out := make([]MechanismRow, 0, len(keys))
	for _, k := range keys {
		r := m.rows[k]
		row := MechanismRow{
			User: k.user, HasUser: k.hasUser, RemoteIP: k.addr.String(),
			Services: services(r.services), Mechanisms: r.mechs.sorted(), OtherMechanisms: r.mechs.other,
			Count: r.count, First: r.first, Last: r.last, Origin: r.origin,
		}
		for _, u := range row.Mechanisms {
			row.Password = row.Password || u.Class == PasswordAuth
			row.Token = row.Token || u.Class == TokenAuth
		}
		out = append(out, row)
	}
	return out
}

func comparePair(a, b pairKey) int {
	return cmp.Or(strings.Compare(a.user, b.user), compareBool(a.hasUser, b.hasUser), a.addr.compare(b.addr))
}

// MechanismTotal is one mechanism across all users and addresses.
type MechanismTotal struct {
	Name  string
	Class AuthClass
	// Count is the number of successful logins; Users the number of
	// distinct users (a line without a user counts as one more) and
	// Addresses the number of (user, address) rows that used it.
	Count            int64
	Users, Addresses int
	First, Last      time.Time
}

// Totals returns one total per mechanism, sorted by class (password,
// token, other, unknown), then count (most first), then name.
func (m *Mechanisms) Totals() []MechanismTotal {
	type userKey struct {
		user    string
		hasUser bool
	}
	type acc struct {
		MechanismTotal
		users map[userKey]struct{}
	}
	byName := make(map[string]*acc)
	for k, r := range m.rows {
		for _, u := range r.mechs.uses {
			a := byName[u.Name]
			if a == nil {
				a = &acc{MechanismTotal: MechanismTotal{Name: u.Name, Class: u.Class}, users: make(map[userKey]struct{})}
				byName[u.Name] = a
			}
			a.Count += u.Count
			a.Addresses++
			a.users[userKey{k.user, k.hasUser}] = struct{}{}
			sp := span{a.First, a.Last}
			sp.merge(span{u.First, u.Last})
			a.First, a.Last = sp.first, sp.last
		}
	}
	out := make([]MechanismTotal, 0, len(byName))
	for _, a := range byName {
		a.Users = len(a.users)
		out = append(out, a.MechanismTotal)
	}
	slices.SortFunc(out, func(a, b MechanismTotal) int {
		return cmp.Or(cmp.Compare(classRank(a.Class), classRank(b.Class)), cmp.Compare(b.Count, a.Count), strings.Compare(a.Name, b.Name))
	})
	return out
}

func classRank(c AuthClass) int {
	switch c {
	case PasswordAuth:
		return 0
	case TokenAuth:
		return 1
	case OtherAuth:
		return 2
	}
	return 3
}

// Insecure answers "is anything still logging in insecurely?": the
// successful logins over a connection without TLS that Dovecot did not
// mark secured (loopback or login_trusted_networks), per user, address
// and service. Lines that cannot tell whether TLS was used (TLSUnknown:
// Postfix SASL lines) are not counted as insecure, only in
// [InsecureTotals.TLSUnknown]. Create it with [NewInsecure]; it is not
// safe for concurrent use. Its memory grows with the distinct (user,
// address, service) triples that logged in in the clear.
type Insecure struct {
	rows   map[insecureKey]*insecureStat
	totals InsecureTotals
}

type insecureKey struct {
	pairKey
	service string
}

type insecureStat struct {
	count int64
	span
	mechs  mechSet
	origin ipranges.Origin
}

// InsecureTotals counts the successful logins an Insecure was given, by
// what their lines say about encryption. Logins is the sum of the others.
type InsecureTotals struct {
	Logins int64
	// Cleartext is the logins without TLS and not secured: the rows.
	Cleartext int64
	// TLS is the logins over TLS; Secured those without TLS on a
	// connection Dovecot trusts (loopback, login_trusted_networks).
	TLS, Secured int64
	// TLSUnknown is the logins whose line cannot tell (Postfix SASL
	// lines): not counted as insecure.
	TLSUnknown int64
}

// NewInsecure returns an empty Insecure.
func NewInsecure() *Insecure {
	return &Insecure{rows: make(map[insecureKey]*insecureStat)}
}

// Add counts ev when it is a successful login (Dovecot login line or
// Postfix SASL line); other events are ignored. o is the origin of ev's
// address; the first one given for an address is kept.
func (s *Insecure) Add(ev parse.Event, o ipranges.Origin) {
	if !countsAsLogin(ev) {
		return
	}
	s.totals.Logins++
	switch {
	case ev.TLS == parse.TLSYes:
		s.totals.TLS++
		return
	case ev.Secured:
		s.totals.Secured++
		return
	case ev.TLS != parse.TLSNo:
		s.totals.TLSUnknown++
		return
	}
	s.totals.Cleartext++
	key := insecureKey{pairKey{user: ev.User, hasUser: ev.HasUser, addr: keyOf(ev)}, ev.Service}
	r := s.rows[key]
	if r == nil {
		key.user = strings.Clone(key.user)
		key.addr.text = strings.Clone(key.addr.text)
		key.service = strings.Clone(key.service)
		r = &insecureStat{}
		s.rows[key] = r
	}
	r.count++
	r.span.add(ev.Time)
	r.mechs.add(ev.Method, ev.Time)
	if r.origin.IsZero() {
		r.origin = o
	}
}

// Totals returns the counters.
func (s *Insecure) Totals() InsecureTotals { return s.totals }

// InsecureRow is the cleartext logins of one user from one address to one
// service.
type InsecureRow struct {
	User    string
	HasUser bool
	// RemoteIP is the address in canonical form, or as logged.
	RemoteIP string
	// Service is the service as the event names it, "" when unknown.
	Service string
	// Mechanisms lists the mechanisms used, sorted by name, with
	// OtherMechanisms as in MechanismRow.
	Mechanisms      []MechanismUse
	OtherMechanisms int64
	Count           int64
	First, Last     time.Time
	Origin          ipranges.Origin
}

// Rows returns the cleartext logins per user, address and service, sorted
// by user, then address, then service.
func (s *Insecure) Rows() []InsecureRow {
	keys := slices.SortedFunc(maps.Keys(s.rows), func(a, b insecureKey) int {
		return cmp.Or(comparePair(a.pairKey, b.pairKey), strings.Compare(a.service, b.service))
	})
	out := make([]InsecureRow, 0, len(keys))
	for _, k := range keys {
		r := s.rows[k]
		out = append(out, InsecureRow{
			User: k.user, HasUser: k.hasUser, RemoteIP: k.addr.String(), Service: k.service,
			Mechanisms: r.mechs.sorted(), OtherMechanisms: r.mechs.other,
			Count: r.count, First: r.first, Last: r.last, Origin: r.origin,
		})
	}
	return out
}

// InsecureService is one service that accepted cleartext logins.
type InsecureService struct {
	// Service is the service name, "" when unknown.
	Service string
	// Count is the number of cleartext logins; Users the distinct users
	// (a line without a user counts as one more) and Addresses the
	// distinct addresses.
	Count            int64
	Users, Addresses int
	First, Last      time.Time
}

// Services returns the services that accepted cleartext logins, sorted by
// count (most first), then name.
func (s *Insecure) Services() []InsecureService {
	type acc struct {
		InsecureService
		users map[pairKey]struct{} // addr left zero
		addrs map[addrKey]struct{}
	}
	by := make(map[string]*acc)
	for k, r := range s.rows {
		a := by[k.service]
		if a == nil {
			a = &acc{InsecureService: InsecureService{Service: k.service},
				users: make(map[pairKey]struct{}), addrs: make(map[addrKey]struct{})}
			by[k.service] = a
		}
		a.Count += r.count
		a.users[pairKey{user: k.user, hasUser: k.hasUser}] = struct{}{}
		a.addrs[k.addr] = struct{}{}
		sp := span{a.First, a.Last}
		sp.merge(r.span)
		a.First, a.Last = sp.first, sp.last
	}
	out := make([]InsecureService, 0, len(by))
	for _, a := range by {
		a.Users, a.Addresses = len(a.users), len(a.addrs)
		out = append(out, a.InsecureService)
	}
	slices.SortFunc(out, func(a, b InsecureService) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Service, b.Service))
	})
	return out
}
