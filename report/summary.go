package report

import (
	"cmp"
	"hash/maphash"
	"iter"
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
	// FailureAddressLimit is how many failing addresses a Summary tracks
	// at once. When a new address would exceed it, the quarter with the
	// fewest failed attempts (the least recently seen first among equals;
	// probes alone count as none) is dropped and counted
	// ([Summary.FailuresNotTracked]): attacker-chosen
	// addresses cannot grow the memory without bound (about 20 MB at the
	// limit). Totals and the hourly counts stay exact. It is the rules'
	// default max_sources.
	FailureAddressLimit = 50_000
	// tableMalformedLimit and tableFailureLimit cap the table sections.
	tableMalformedLimit = 20
	tableFailureLimit   = 50
	// tableUserLimit is how many users the logins and intermediaries
	// tables show (those with the most logins), tableAddressLimit how
	// many addresses of one user the logins table shows (the most used);
	// --format json has every row.
	tableUserLimit    = 200
	tableAddressLimit = 20
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
	// pairs holds the pairs by a hash of their key, colliding ones
	// chained (next): a map keyed by the whole pairKey took twice the
	// memory of its pairs for its slots alone.
	pairs  map[uint64]*pairStat
	npairs int
	fails  map[addrKey]*failStat
	seed   maphash.Seed
	// origins holds each distinct Origin once (index 0 the zero Origin);
	// the per-pair and per-address stats keep an index into it.
	origins   []ipranges.Origin
	originIdx map[originKey]uint32
	// failLimit is FailureAddressLimit (smaller in tests); failsDropped
	// counts the addresses dropped, failedAttempts every failed attempt.
	failLimit      int
	failsDropped   int64
	failedAttempts int64
	// failHist counts the tracked failing addresses by failBucket.
	failHist [failBuckets]int
}

// failBuckets is the size of the histogram of failed attempts per
// address that dropFailures uses: 0 … failBuckets-2, and more.
const failBuckets = 64

func failBucket(count int64) int { return int(min(count, failBuckets-1)) }

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{
		pairs:     make(map[uint64]*pairStat),
		fails:     make(map[addrKey]*failStat),
		hours:     make(map[int64]*HourCounts),
		seed:      maphash.MakeSeed(),
		origins:   []ipranges.Origin{{}},
		originIdx: make(map[originKey]uint32),
		failLimit: FailureAddressLimit,
	}
}

// originKey identifies an Origin for interning: its fields, its first
// label, and when it has more, where they are stored (the classifier
// answers an address from its cache with the same slice).
type originKey struct {
	class, provider, product, confidence, asOrg, country string
	asn                                                  uint32
	labels                                               int
	first                                                ipranges.Label
	rest                                                 *ipranges.Label
}

// origin returns the index of o in s.origins, adding it when new.
func (s *Summary) origin(o ipranges.Origin) uint32 {
	if o.IsZero() {
		return 0
	}
	k := originKey{class: string(o.Class), provider: o.Provider, product: o.Product, confidence: string(o.Confidence),
		asOrg: o.ASOrg, country: o.Country, asn: o.ASN, labels: len(o.Labels)}
	if len(o.Labels) > 0 {
		k.first = o.Labels[0]
	}
	if len(o.Labels) > 1 {
		k.rest = &o.Labels[1]
	}
	if i, ok := s.originIdx[k]; ok {
		return i
	}
	i := uint32(len(s.origins))
	s.origins = append(s.origins, o)
	s.originIdx[k] = i
	return i
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
	key            pairKey
	next           *pairStat // of the same hash
	count, refused int64
	span
	services uint8
	tls      uint8  // bit 1<<TLS value
	origin   uint32 // index into Summary.origins
}

type failStat struct {
	key                   addrKey
	count, events, probes int64
	span
	services uint8
	origin   uint32 // index into Summary.origins
	users    userSet
	examples []string
}

// userSet is the set of the 64-bit hashes of the users tried from one
// address: a short list while it is small (most addresses try few
// names), a map beyond.
type userSet struct {
	few  []uint64
	many map[uint64]struct{}
}

// userSetList is how many hashes a userSet keeps in its list.
const userSetList = 8

// add adds h and reports whether it was new.
func (u *userSet) add(h uint64) bool {
	if u.many != nil {
		if _, ok := u.many[h]; ok {
			return false
		}
		u.many[h] = struct{}{}
		return true
	}
	if slices.Contains(u.few, h) {
		return false
	}
	if len(u.few) < userSetList {
		u.few = append(u.few, h)
		return true
	}
	u.many = make(map[uint64]struct{}, 2*userSetList)
	for _, x := range u.few {
		u.many[x] = struct{}{}
	}
	u.few = nil
	u.many[h] = struct{}{}
	return true
}

func (u *userSet) len() int {
	if u.many != nil {
		return len(u.many)
	}
	return len(u.few)
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
	h := s.pairHash(&key)
	p := s.pairs[h]
	for p != nil && p.key != key {
		p = p.next
	}
	if p == nil {
		// Clone: the strings may share memory with a large line buffer.
		key.user = strings.Clone(key.user)
		key.addr.text = strings.Clone(key.addr.text)
		p = &pairStat{key: key, next: s.pairs[h]}
		s.pairs[h] = p
		s.npairs++
	}
	p.count++
	if ev.Refused {
		p.refused++
	}
	p.span.add(ev.Time)
	p.services |= serviceBit(ev.Service)
	p.tls |= 1 << (ev.TLS & 3)
	if p.origin == 0 {
		p.origin = s.origin(o)
	}
}

// pairHash hashes a pair's key: equal keys hash equal.
func (s *Summary) pairHash(k *pairKey) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(k.user)
	flags := byte(0)
	if k.hasUser {
		flags |= 1
	}
	if k.addr.addr.Is4() {
		flags |= 2
	}
	h.WriteByte(flags)
	a := k.addr.addr.As16()
	h.Write(a[:])
	h.WriteString(k.addr.addr.Zone())
	h.WriteString(k.addr.text)
	return h.Sum64() & pairHashMask
}

// pairHashMask is all ones; tests narrow it to make hashes collide.
var pairHashMask = ^uint64(0)

// allPairs yields every pair.
func (s *Summary) allPairs(yield func(*pairStat) bool) {
	for _, p := range s.pairs {
		for ; p != nil; p = p.next {
			if !yield(p) {
				return
			}
		}
	}
}

func (s *Summary) addFailure(ev parse.Event, o ipranges.Origin, probe bool) {
	if !probe {
		s.failedAttempts += int64(max(ev.Attempts, 1))
	}
	key := keyOf(ev)
	f := s.fails[key]
	if f == nil {
		if len(s.fails) >= s.failLimit {
			s.dropFailures()
		}
		key.text = strings.Clone(key.text)
		f = &failStat{key: key}
		s.fails[key] = f
		s.failHist[0]++
	}
	f.span.add(ev.Time)
	f.services |= serviceBit(ev.Service)
	if f.origin == 0 {
		f.origin = s.origin(o)
	}
	if probe {
		f.probes++
		return
	}
	f.events++
	s.failHist[failBucket(f.count)]--
	f.count += int64(max(ev.Attempts, 1))
	s.failHist[failBucket(f.count)]++
	// user=<> names no user: it is not one of the users tried.
	if ev.HasUser && ev.User != "" {
		if f.users.add(maphash.String(s.seed, ev.User)) && len(f.examples) < UserExampleLimit {
			f.examples = append(f.examples, strings.Clone(ev.User))
		}
	}
}

// dropFailures drops a quarter of the failing addresses: those with the
// fewest failed attempts, the least recently seen first among equals; and
// counts them in failsDropped. A histogram of the attempts finds the
// boundary, and only the last times (seconds) of the addresses at it are
// sorted, so that dropping costs little more than a pass over the map.
func (s *Summary) dropFailures() {
	want := max(len(s.fails)/4, 1)
	limit, below := 0, 0 // every address under bucket limit goes
	for limit < failBuckets-1 && below+s.failHist[limit] < want {
		below += s.failHist[limit]
		limit++
	}
	var edge []*failStat
	for k, f := range s.fails {
		switch b := failBucket(f.count); {
		case b < limit:
			delete(s.fails, k)
			s.failHist[b]--
		case b == limit:
			edge = append(edge, f)
		}
	}
	need := min(want-below, len(edge))
	s.failsDropped += int64(below + need)
	older := func(a, b *failStat) int {
		return cmp.Or(cmp.Compare(a.count, b.count), a.last.Compare(b.last), a.key.compare(b.key))
	}
	if limit == failBuckets-1 {
		// Busy addresses all: order them fully (rare).
		slices.SortFunc(edge, older)
		edge = edge[:need]
	} else if need < len(edge) {
		// The same count: the need least recently seen go, found by
		// the second of the need-th oldest; ties at it in full order.
		secs := make([]int64, len(edge))
		for i, f := range edge {
			secs[i] = f.last.Unix()
		}
		slices.Sort(secs)
		cut := secs[need-1]
		var gone, ties []*failStat
		for _, f := range edge {
			switch sec := f.last.Unix(); {
			case sec < cut:
				gone = append(gone, f)
			case sec == cut:
				ties = append(ties, f)
			}
		}
		slices.SortFunc(ties, older)
		edge = append(gone, ties[:need-len(gone)]...)
	}
	for _, f := range edge {
		delete(s.fails, f.key)
		s.failHist[limit]--
	}
}

// FailuresNotTracked returns how many failing addresses were dropped from
// the per-address failures to keep at most [FailureAddressLimit] (see
// there); an address seen again after it was dropped counts anew.
func (s *Summary) FailuresNotTracked() int64 { return s.failsDropped }

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
// address. AllLogins yields the same without holding them all.
func (s *Summary) Logins() []Login { return slices.Collect(s.AllLogins()) }

// AllLogins yields what Logins returns, one at a time: only the order is
// held, not every Login at once.
func (s *Summary) AllLogins() iter.Seq[Login] {
	return func(yield func(Login) bool) {
		for _, p := range s.sortedPairs() {
			if !yield(s.login(p)) {
				return
			}
		}
	}
}

// sortedPairs returns the pairs in the order of Logins.
func (s *Summary) sortedPairs() []*pairStat {
	pairs := make([]*pairStat, 0, s.npairs)
	for p := range s.allPairs {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, comparePairs)
	return pairs
}

func comparePairs(a, b *pairStat) int {
	return cmp.Or(
		strings.Compare(a.key.user, b.key.user),
		compareBool(a.key.hasUser, b.key.hasUser),
		cmp.Compare(b.count, a.count),
		a.key.addr.compare(b.key.addr),
	)
}

func (s *Summary) login(p *pairStat) Login {
	return Login{
		User: p.key.user, HasUser: p.key.hasUser, RemoteIP: p.key.addr.String(),
		Count: p.count, Refused: p.refused, First: p.first, Last: p.last,
		Services: services(p.services), TLS: tlsVerdict(p.tls), Origin: s.origins[p.origin],
	}
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
	groups := make(map[key][]*pairStat)
	for p := range s.allPairs {
		o := &s.origins[p.origin]
		if o.Class != ipranges.Intermediary {
			continue
		}
		k := key{p.key.user, p.key.hasUser, o.Provider, o.Product}
		groups[k] = append(groups[k], p)
	}
	out := make([]Intermediary, 0, len(groups))
	for k, ps := range groups {
		// Most used first, as in Logins within a user.
		slices.SortFunc(ps, comparePairs)
		g := Intermediary{User: k.user, HasUser: k.hasUser, Provider: k.provider, Product: k.product}
		orgs := map[uint32]string{}
		var sp span
		for _, p := range ps {
			o := &s.origins[p.origin]
			g.Count += p.count
			sp.merge(p.span)
			if c := o.Country; c != "" && !slices.Contains(g.Countries, c) {
				g.Countries = append(g.Countries, c)
			}
			if a := o.ASN; a != 0 {
				if _, ok := orgs[a]; !ok || orgs[a] == "" {
					orgs[a] = o.ASOrg
				}
			}
		}
		g.First, g.Last = sp.first, sp.last
		g.AddressCount = len(ps)
		for _, p := range ps[:min(len(ps), AddressExampleLimit)] {
			g.Addresses = append(g.Addresses, p.key.addr.String())
		}
		slices.Sort(g.Countries)
		for a := range orgs {
			g.ASNs = append(g.ASNs, a)
		}
		slices.Sort(g.ASNs)
		for _, a := range g.ASNs {
			g.ASOrgs = append(g.ASOrgs, orgs[a])
		}
		out = append(out, g)
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
// (most first), then probes (most first), then address. AllFailures
// yields the same without holding them all.
func (s *Summary) Failures() []AddressFailures { return slices.Collect(s.AllFailures()) }

// AllFailures yields what Failures returns, one at a time.
func (s *Summary) AllFailures() iter.Seq[AddressFailures] {
	return func(yield func(AddressFailures) bool) {
		for _, f := range s.sortedFails() {
			if !yield(s.failure(f)) {
				return
			}
		}
	}
}

// FailureAddresses returns the number of failing addresses tracked: the
// length of Failures.
func (s *Summary) FailureAddresses() int { return len(s.fails) }

// FailedAttempts returns the number of failed attempts of every address,
// those no longer tracked included.
func (s *Summary) FailedAttempts() int64 { return s.failedAttempts }

func (s *Summary) sortedFails() []*failStat {
	fails := slices.Collect(maps.Values(s.fails))
	slices.SortFunc(fails, compareFails)
	return fails
}

func compareFails(a, b *failStat) int {
	return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(b.probes, a.probes), a.key.compare(b.key))
}

// topFailures returns the first n rows of Failures.
func (s *Summary) topFailures(n int) []AddressFailures {
	if n >= len(s.fails) {
		return s.Failures()
	}
	if n <= 0 {
		return nil
	}
	// A bounded selection: the n first in the order of Failures.
	top := make([]*failStat, 0, n+1)
	for _, f := range s.fails {
		if len(top) == n && compareFails(f, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, f, compareFails)
		top = slices.Insert(top, i, f)
		if len(top) > n {
			top = top[:n]
		}
	}
	out := make([]AddressFailures, len(top))
	for i, f := range top {
		out[i] = s.failure(f)
	}
	return out
}

func (s *Summary) failure(f *failStat) AddressFailures {
	return AddressFailures{
		RemoteIP: f.key.String(), Count: f.count, Events: f.events, Probes: f.probes, First: f.first, Last: f.last,
		Users: f.users.len(), UserExamples: slices.Clone(f.examples),
		Services: services(f.services), Origin: s.origins[f.origin],
	}
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

// loginRow is a row of the logins table: a Login, or, when more > 0, the
// logins of a user's more addresses not shown (User, HasUser, Count,
// First and Last set).
type loginRow struct {
	Login
	more int
}

// tableLogins returns the rows of the logins table (intermediaries left
// out): when more than userLimit users logged in, only the userLimit with
// the most logins (the first by name among equals), in the order of
// Logins; of each user at most addrLimit addresses, the rest summed in
// one row. It returns how many users logged in and how many are shown.
func (s *Summary) tableLogins(userLimit, addrLimit int) (rows []loginRow, users, shown int) {
	pairs := make([]*pairStat, 0, s.npairs)
	for p := range s.allPairs {
		if s.origins[p.origin].Class != ipranges.Intermediary {
			pairs = append(pairs, p)
		}
	}
	slices.SortFunc(pairs, comparePairs)
	// runs are the pairs of each user: pairs[start:end].
	type run struct {
		start, end int
		total      int64
	}
	var runs []run
	for i, p := range pairs {
		if i == 0 || p.key.user != pairs[i-1].key.user || p.key.hasUser != pairs[i-1].key.hasUser {
			runs = append(runs, run{start: i, end: i})
		}
		r := &runs[len(runs)-1]
		r.end = i + 1
		r.total += p.count
	}
	users = len(runs)
	if users > userLimit {
		slices.SortFunc(runs, func(a, b run) int { return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.start, b.start)) })
		runs = runs[:userLimit]
		slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.start, b.start) })
	}
	for _, r := range runs {
		ps := pairs[r.start:r.end]
		for _, p := range ps[:min(len(ps), addrLimit)] {
			rows = append(rows, loginRow{Login: s.login(p)})
		}
		if rest := ps[min(len(ps), addrLimit):]; len(rest) > 0 {
			m := loginRow{Login: Login{User: rest[0].key.user, HasUser: rest[0].key.hasUser}, more: len(rest)}
			var sp span
			for _, p := range rest {
				m.Count += p.count
				sp.merge(p.span)
			}
			m.First, m.Last = sp.first, sp.last
			rows = append(rows, m)
		}
	}
	return rows, users, len(runs)
}
