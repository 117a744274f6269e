package report

import (
	"cmp"
	"hash/maphash"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// Limits of what a Summary keeps or shows.
const (
	// UserExampleLimit is how many user names a Summary keeps per failing
	// address, as examples. Distinct users are still counted exactly.
	UserExampleLimit = 5
	// MalformedLimit is how many malformed lines a Summary keeps; the
	// total is still counted.
	MalformedLimit = 100
	// AddressExampleLimit is how many addresses an intermediary row lists.
	AddressExampleLimit = 5
	// tableMalformedLimit and tableFailureLimit cap the table sections.
	tableMalformedLimit = 20
	tableFailureLimit   = 50
)

// A Summary accumulates what `mailaudit scan` shows a person: logins per
// user and address, cloud intermediaries, failures per address, malformed
// lines and totals. Its memory grows with the distinct (user, address)
// pairs seen, not with the number of events: a failing address keeps a
// 64-bit hash per distinct user tried and at most [UserExampleLimit] names.
//
// Auth-kind events (Dovecot auth-process detail lines) only add detail to a
// login line of the same attempt; a Summary counts them in
// [Totals.AuthDetails] and nowhere else, so no attempt is counted twice.
//
// The exported counters are for the caller to set or increment. Create a
// Summary with [NewSummary]; it is not safe for concurrent use.
type Summary struct {
	// Lines is the number of lines read.
	Lines int64
	// LongLines is the number of lines skipped for being too long.
	LongLines int64
	// Files is the number of files read.
	Files int
	// InputErrors is the number of input errors (unreadable files,
	// truncated archives) that did not stop the run.
	InputErrors int
	// TotalsOnly keeps the totals, hours, probes and malformed lines but
	// not the per-user and per-address tables: what check needs, in
	// memory that does not grow with attacker-chosen names.
	TotalsOnly bool

	events         [4][4]int64 // [Kind][Result], 0 for out-of-range values
	malformed      []Malformed
	malformedTotal int64
	probes         int64
	hours          map[int64]*HourCounts
	pairs          map[pairKey]*pairStat
	fails          map[addrKey]*failStat
	seed           maphash.Seed
}

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{
		pairs: make(map[pairKey]*pairStat),
		fails: make(map[addrKey]*failStat),
		hours: make(map[int64]*HourCounts),
		seed:  maphash.MakeSeed(),
	}
}

// addrKey identifies a remote address: the parsed address (IPv4-mapped
// IPv6 unmapped) when valid, else the text as logged.
type addrKey struct {
	addr netip.Addr
	text string
}

func keyOf(ev parse.Event) addrKey {
	if ev.Addr.IsValid() {
		return addrKey{addr: ev.Addr.Unmap()}
	}
	return addrKey{text: ev.RemoteIP}
}

func (k addrKey) String() string {
	if k.addr.IsValid() {
		return k.addr.String()
	}
	return k.text
}

func (k addrKey) compare(o addrKey) int {
	return cmp.Or(k.addr.Compare(o.addr), strings.Compare(k.text, o.text))
}

// pairKey identifies one user at one address.
type pairKey struct {
	user    string
	hasUser bool
	addr    addrKey
}

// The service bits of pairStat.services and failStat.services.
var serviceNames = []string{"imap", "pop3", "submission", "managesieve", "smtp", "other"}

func serviceBit(s string) uint8 {
	for i, n := range serviceNames[:len(serviceNames)-1] {
		if s == n {
			return 1 << i
		}
	}
	if s == "" {
		return 0
	}
	return 1 << (len(serviceNames) - 1)
}

func services(bits uint8) []string {
	out := []string{}
	for i, n := range serviceNames {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// span is a first/last pair of event times; zero times are ignored.
type span struct{ first, last time.Time }

func (s *span) add(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if s.last.IsZero() || t.After(s.last) {
		s.last = t
	}
}

func (s *span) merge(o span) {
	s.add(o.first)
	s.add(o.last)
}

type pairStat struct {
	count, refused int64
	span
	services uint8
	tls      uint8 // bit 1<<TLS value
	origin   ipranges.Origin
}

type failStat struct {
	count, events, probes int64
	span
	services uint8
	users    map[uint64]struct{}
	examples []string
	origin   ipranges.Origin
}

// Add counts one event and the origin of its address. Successful login and
// SASL events count as logins of their (user, address) pair; failed and
// aborted ones as failures of their address, weighted by Attempts when it
// is over 1. Auth-kind events only count in the totals; client-kind
// events (the program a connection named) are not counted at all.
func (s *Summary) Add(ev parse.Event, o ipranges.Origin) {
	if ev.Kind == parse.KindClient {
		return
	}
	k, r := int(ev.Kind), int(ev.Result)
	if k > 3 {
		k = 0
	}
	if r > 3 {
		r = 0
	}
	s.events[k][r]++
	if ev.Kind != parse.KindLogin && ev.Kind != parse.KindSASL {
		return
	}
	h := s.hour(ev.Time)
	switch {
	case ev.Result == parse.Success:
		if !s.TotalsOnly {
			s.addLogin(ev, o)
		}
		if h != nil {
			h.Logins++
		}
	case IsProbe(ev):
		s.probes++
		if !s.TotalsOnly {
			s.addFailure(ev, o, true)
		}
		if h != nil {
			h.Probes++
		}
	case ev.Result == parse.Failure || ev.Result == parse.Aborted:
		if !s.TotalsOnly {
			s.addFailure(ev, o, false)
		}
		if h != nil {
			h.Failures += int64(max(ev.Attempts, 1))
		}
	}
}

// IsProbe reports whether ev is a connection that ended without any
// authentication attempt: an aborted login (not one refused after
// authenticating) with no attempt counted, no mechanism and no user name
// (Dovecot's "no auth attempts", TLS handshake errors, "disconnected
// before auth was ready"). Scanners and monitoring make these; they are
// counted as probes, never as failed logins.
func IsProbe(ev parse.Event) bool {
	return ev.Result == parse.Aborted && !ev.Refused && ev.Attempts == 0 && ev.Method == "" &&
		(!ev.HasUser || ev.User == "")
}

// HourCounts is what happened in one hour (or, see [Summary.Hours], one
// day): successful logins, failed attempts, probes.
type HourCounts struct {
	Start                    time.Time
	Logins, Failures, Probes int64
}

// hourLimit bounds the hours a Summary keeps for its chart (a year).
const hourLimit = 366 * 24

func (s *Summary) hour(t time.Time) *HourCounts {
	if t.IsZero() {
		return nil
	}
	k := t.Unix() / 3600
	h := s.hours[k]
	if h == nil {
		if len(s.hours) >= hourLimit {
			return nil
		}
		h = &HourCounts{Start: time.Unix(k*3600, 0).In(t.Location())}
		s.hours[k] = h
	}
	return h
}

// Hours returns the logins, failures and probes per hour, in time order,
// every hour from the first to the last event included; when that is more
// than four days, per day instead (Start at midnight of the first
// event's zone). Events without a time are not in it.
func (s *Summary) Hours() []HourCounts {
	if len(s.hours) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(s.hours))
	first, last := keys[0], keys[len(keys)-1]
	if last-first < 4*24 {
		out := make([]HourCounts, 0, last-first+1)
		loc := s.hours[first].Start.Location()
		for k := first; k <= last; k++ {
			if h := s.hours[k]; h != nil {
				out = append(out, *h)
			} else {
				out = append(out, HourCounts{Start: time.Unix(k*3600, 0).In(loc)})
			}
		}
		return out
	}
	var out []HourCounts
	for _, k := range keys {
		h := s.hours[k]
		y, m, d := h.Start.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, h.Start.Location())
		for len(out) > 0 && out[len(out)-1].Start.AddDate(0, 0, 1).Before(day) {
			prev := out[len(out)-1].Start
			out = append(out, HourCounts{Start: time.Date(prev.Year(), prev.Month(), prev.Day()+1, 0, 0, 0, 0, prev.Location())})
		}
		if len(out) == 0 || !out[len(out)-1].Start.Equal(day) {
			out = append(out, HourCounts{Start: day})
		}
		c := &out[len(out)-1]
		c.Logins += h.Logins
		c.Failures += h.Failures
		c.Probes += h.Probes
	}
	return out
}

func (s *Summary) addLogin(ev parse.Event, o ipranges.Origin) {
	key := pairKey{user: ev.User, hasUser: ev.HasUser, addr: keyOf(ev)}
	p := s.pairs[key]
	if p == nil {
		// Clone: the strings may share memory with a large line buffer.
		key.user = strings.Clone(key.user)
		key.addr.text = strings.Clone(key.addr.text)
		p = &pairStat{}
		s.pairs[key] = p
	}
	p.count++
	if ev.Refused {
		p.refused++
	}
	p.span.add(ev.Time)
	p.services |= serviceBit(ev.Service)
	p.tls |= 1 << (ev.TLS & 3)
	if p.origin.IsZero() {
		p.origin = o
	}
}

func (s *Summary) addFailure(ev parse.Event, o ipranges.Origin, probe bool) {
	key := keyOf(ev)
	f := s.fails[key]
	if f == nil {
		key.text = strings.Clone(key.text)
		f = &failStat{users: make(map[uint64]struct{})}
		s.fails[key] = f
	}
	f.span.add(ev.Time)
	f.services |= serviceBit(ev.Service)
	if f.origin.IsZero() {
		f.origin = o
	}
	if probe {
		f.probes++
		return
	}
	f.events++
	f.count += int64(max(ev.Attempts, 1))
	// user=<> names no user: it is not one of the users tried.
	if ev.HasUser && ev.User != "" {
		h := maphash.String(s.seed, ev.User)
		if _, seen := f.users[h]; !seen {
			f.users[h] = struct{}{}
			if len(f.examples) < UserExampleLimit {
				f.examples = append(f.examples, strings.Clone(ev.User))
			}
		}
	}
}

// AddMalformed counts one malformed line; ev has File, Line, Program and
// Reason set. The first [MalformedLimit] are kept for display.
func (s *Summary) AddMalformed(ev parse.Event) {
	s.malformedTotal++
	if len(s.malformed) < MalformedLimit {
		s.malformed = append(s.malformed, Malformed{
			File: strings.Clone(ev.File), Line: ev.Line,
			Program: strings.Clone(ev.Program), Reason: strings.Clone(ev.Reason),
		})
	}
}

// Login is the successful logins of one user from one address.
type Login struct {
	User    string
	HasUser bool
	// RemoteIP is the address in canonical form (IPv4-mapped IPv6
	// unmapped), or as logged when it did not parse.
	RemoteIP string
	// Count is the number of successful logins, Refused how many of them
	// were refused after authentication (e.g. connection limit).
	Count, Refused int64
	First, Last    time.Time
	// Services lists the services used, in a fixed order: imap, pop3,
	// submission, managesieve, smtp, other.
	Services []string
	// TLS is "yes", "no", "mixed" (both seen) or "unknown" (no line told);
	// lines that cannot tell do not change a yes or no.
	TLS string
	// Origin is the origin of the address, as first given to Add.
	Origin ipranges.Origin
}

// Logins returns every (user, address) pair with a successful login,
// intermediaries included, sorted by user, then count (most first), then
// address.
func (s *Summary) Logins() []Login {
	type kv struct {
		k pairKey
		p *pairStat
	}
	pairs := make([]kv, 0, len(s.pairs))
	for k, p := range s.pairs {
		pairs = append(pairs, kv{k, p})
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		return cmp.Or(
			strings.Compare(a.k.user, b.k.user),
			compareBool(a.k.hasUser, b.k.hasUser),
			cmp.Compare(b.p.count, a.p.count),
			a.k.addr.compare(b.k.addr),
		)
	})
	out := make([]Login, 0, len(pairs))
	for _, kp := range pairs {
		k, p := kp.k, kp.p
		out = append(out, Login{
			User: k.user, HasUser: k.hasUser, RemoteIP: k.addr.String(),
			Count: p.count, Refused: p.refused, First: p.first, Last: p.last,
			Services: services(p.services), TLS: tlsVerdict(p.tls), Origin: p.origin,
		})
	}
	return out
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func tlsVerdict(bits uint8) string {
	yes, no := bits&(1<<parse.TLSYes) != 0, bits&(1<<parse.TLSNo) != 0
	switch {
	case yes && no:
		return "mixed"
	case yes:
		return "yes"
	case no:
		return "no"
	}
	return "unknown"
}

// Intermediary is one user's successful logins through one cloud
// intermediary (Origin.Class == ipranges.Intermediary), all its addresses
// together.
type Intermediary struct {
	User     string
	HasUser  bool
	Provider string
	Product  string
	// Count is the number of successful logins.
	Count       int64
	First, Last time.Time
	// Addresses lists up to AddressExampleLimit addresses, most used
	// first; AddressCount is the number of distinct addresses.
	Addresses    []string
	AddressCount int
	// Countries and ASNs are the distinct known values, sorted; ASOrgs
	// holds the AS organisation of each ASN when known ("" otherwise).
	Countries []string
	ASNs      []uint32
	ASOrgs    []string
}

// Intermediaries returns, per user and intermediary (provider and
// product), the successful logins through a cloud intermediary, sorted by
// user, then count (most first), then provider and product.
func (s *Summary) Intermediaries() []Intermediary {
	type key struct {
		user              string
		hasUser           bool
		provider, product string
	}
	type acc struct {
		Intermediary
		addrs []Login
		orgs  map[uint32]string
	}
	groups := make(map[key]*acc)
	for _, l := range s.Logins() {
		if l.Origin.Class != ipranges.Intermediary {
			continue
		}
		k := key{l.User, l.HasUser, l.Origin.Provider, l.Origin.Product}
		g := groups[k]
		if g == nil {
			g = &acc{Intermediary: Intermediary{User: l.User, HasUser: l.HasUser,
				Provider: l.Origin.Provider, Product: l.Origin.Product}, orgs: map[uint32]string{}}
			groups[k] = g
		}
		g.Count += l.Count
		sp := span{g.First, g.Last}
		sp.merge(span{l.First, l.Last})
		g.First, g.Last = sp.first, sp.last
		g.addrs = append(g.addrs, l)
		if c := l.Origin.Country; c != "" && !slices.Contains(g.Countries, c) {
			g.Countries = append(g.Countries, c)
		}
		if a := l.Origin.ASN; a != 0 {
			if _, ok := g.orgs[a]; !ok || g.orgs[a] == "" {
				g.orgs[a] = l.Origin.ASOrg
			}
		}
	}
	out := make([]Intermediary, 0, len(groups))
	for _, g := range groups {
		// Logins() is sorted by count within a user: keep that order.
		slices.SortStableFunc(g.addrs, func(a, b Login) int { return cmp.Compare(b.Count, a.Count) })
		g.AddressCount = len(g.addrs)
		for _, l := range g.addrs[:min(len(g.addrs), AddressExampleLimit)] {
			g.Addresses = append(g.Addresses, l.RemoteIP)
		}
		slices.Sort(g.Countries)
		for a := range g.orgs {
			g.ASNs = append(g.ASNs, a)
		}
		slices.Sort(g.ASNs)
		for _, a := range g.ASNs {
			g.ASOrgs = append(g.ASOrgs, g.orgs[a])
		}
		out = append(out, g.Intermediary)
	}
	slices.SortFunc(out, func(a, b Intermediary) int {
		return cmp.Or(
			strings.Compare(a.User, b.User),
			compareBool(a.HasUser, b.HasUser),
			cmp.Compare(b.Count, a.Count),
			strings.Compare(a.Provider, b.Provider),
			strings.Compare(a.Product, b.Product),
		)
	})
	return out
}

// AddressFailures is the failed and aborted logins from one address, and
// its probes (connections without an authentication attempt, see
// [IsProbe]), which are not failures.
type AddressFailures struct {
	// RemoteIP is the address in canonical form, or as logged.
	RemoteIP string
	// Count is the number of failed attempts: each failed or aborted event
	// counts its Attempts when over 1, else 1. Events is the number of
	// events. Probes counts the connections that made no attempt.
	Count, Events, Probes int64
	First, Last           time.Time
	// Users is the number of distinct user names tried; UserExamples holds
	// the first UserExampleLimit of them, in the order seen.
	Users        int
	UserExamples []string
	// Services lists the services tried, in the order of Login.Services.
	Services []string
	Origin   ipranges.Origin
}

// Failures returns the failures and probes per address, sorted by count
// (most first), then probes (most first), then address.
func (s *Summary) Failures() []AddressFailures {
	type kv struct {
		k addrKey
		f *failStat
	}
	fails := make([]kv, 0, len(s.fails))
	for k, f := range s.fails {
		fails = append(fails, kv{k, f})
	}
	slices.SortFunc(fails, func(a, b kv) int {
		return cmp.Or(cmp.Compare(b.f.count, a.f.count), cmp.Compare(b.f.probes, a.f.probes), a.k.compare(b.k))
	})
	out := make([]AddressFailures, 0, len(fails))
	for _, kf := range fails {
		k, f := kf.k, kf.f
		out = append(out, AddressFailures{
			RemoteIP: k.String(), Count: f.count, Events: f.events, Probes: f.probes, First: f.first, Last: f.last,
			Users: len(f.users), UserExamples: slices.Clone(f.examples),
			Services: services(f.services), Origin: f.origin,
		})
	}
	return out
}

// Malformed is one malformed line.
type Malformed struct {
	File    string
	Line    int
	Program string
	Reason  string
}

// Malformed returns the malformed lines kept (at most MalformedLimit), in
// the order added, and the total count.
func (s *Summary) Malformed() ([]Malformed, int64) {
	return slices.Clone(s.malformed), s.malformedTotal
}

// ResultCounts counts events by result.
type ResultCounts struct {
	Success, Failure, Aborted int64
	// Other counts events with an invalid Result.
	Other int64
}

// Total returns the sum of the counts.
func (r ResultCounts) Total() int64 { return r.Success + r.Failure + r.Aborted + r.Other }

// Totals is the bottom line of a scan.
type Totals struct {
	Lines, LongLines   int64
	Files, InputErrors int
	Malformed          int64
	// Probes counts the connections without an authentication attempt
	// (see [IsProbe]); they are in the aborted counts of Logins too.
	Probes int64
	// Logins counts Dovecot login-process events, SASL Postfix SASL
	// events; AuthDetails counts Dovecot auth-process detail lines, which
	// are never counted as logins or failures. Other counts events with an
	// invalid Kind.
	Logins, SASL, AuthDetails, Other ResultCounts
}

// Totals returns the counters.
func (s *Summary) Totals() Totals {
	rc := func(k int) ResultCounts {
		e := s.events[k]
		return ResultCounts{Success: e[parse.Success], Failure: e[parse.Failure], Aborted: e[parse.Aborted], Other: e[0]}
	}
	return Totals{
		Lines: s.Lines, LongLines: s.LongLines, Files: s.Files, InputErrors: s.InputErrors,
		Malformed: s.malformedTotal, Probes: s.probes,
		Logins: rc(int(parse.KindLogin)), SASL: rc(int(parse.KindSASL)),
		AuthDetails: rc(int(parse.KindAuth)), Other: rc(0),
	}
}
