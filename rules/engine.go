package rules

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// Options are the Engine's collaborators.
type Options struct {
	// Allow enables not-allowlisted; nil disables it. Logins it allows
	// raise no cloud-intermediary and no new-device finding either.
	Allow *Allowlist
	// Baseline is what new-device compares against, what explains a
	// user's failures from familiar places, and what successful logins
	// are learned into; nil means a MemoryBaseline for this Engine.
	Baseline Baseline
	// KeepPending makes Flush leave the failures still waiting for
	// attribution waiting, for a run whose state (MarshalState) the next
	// run continues: a typo at the end of one cron run is explained by
	// the login at the start of the next.
	KeepPending bool
}

// Bounds that keep an Engine's memory bounded on hostile input.
const (
	// maxAttemptsPerLine caps the "N attempts" one line may stand for.
	maxAttemptsPerLine = 1000
	// minWindowItems is the least number of items a window keeps.
	minWindowItems = 4096
	// maxDistinct caps the distinct keys a window counts.
	maxDistinct = 10000
	// maxFindingSet caps the distinct users or addresses one finding
	// counts for its message ("1000+ addresses").
	maxFindingSet = 1000
	// sweepEvery is the least number of events between sweeps of idle
	// state (at 1024, sweeps were a sixth of the rules' time on the
	// realistic day).
	sweepEvery = 4096
	// maxStates caps the (user, source) pairs and the users tracked (at
	// most MaxSources/2 each); past it the least recently active quarter
	// is dropped.
	maxStates = 1 << 18
	// maxPending caps the failures waiting for attribution; past it the
	// oldest is attributed at once.
	maxPending = 1 << 17
)

// An Engine runs the rules over events in time order, on event time. It
// first attributes every failure (attribute.go): only hostile failures
// feed the attack rules (brute-force, password-spray, spray-campaign,
// distributed-attack), which accuse their sources; a login from an accused
// source is account-compromise. It keeps one finding per rule and subject
// and aggregates later events into it. It is not safe for concurrent use.
type Engine struct {
	cfg         Config
	allow       *Allowlist
	base        Baseline
	report      map[Facet]bool
	keepPending bool

	now    time.Time // latest event time seen: the windows' clock
	events int
	swept  int // e.events at the last sweep
	live   int // states left by the last sweep
	seq    int
	err    error

	pending pendingQueue
	sources map[netip.Addr]*source // by source key: the address, or an IPv6 /64
	pairs   map[pairKey]*pairState
	users   map[string]*userState
	accused map[netip.Addr]*accusation
	devMemo map[netip.Addr]devMemo // see devices
	ipMemo  map[netip.Addr]string  // see addrString
	// ownAccused lists, per user, accused sources whose named attempts
	// were all that user's: a login of the user from the same wide
	// network withdraws them (a phone's rotating addresses).
	ownAccused map[string][]netip.Addr
	campaign   campaignState
	// clients are the client names (IMAP ID) of sessions not logged in yet.
	clients clientMemory

	findings map[aggKey]*agg
	perRule  map[string]int // findings kept per rule, for Config.MaxFindings

	notTracked int // sources evicted or never tracked
	// maxStates and maxSources are the bounds; tests lower them.
	maxStates  int
	maxSources int
}

type userState struct {
	active     int64     // e.now (Unix ns) when last looked up: eviction order
	dist       window    // hostile failures of the user, keyed by source
	sources    keyCounts // the distinct keys of dist
	lastT      time.Time
	lastCC     string
	lastAddr   string
	hasLastLog bool
}

type pairKey struct {
	src  netip.Addr
	user string
}

// pairState is one user's failures from one source, whatever their
// attribution: success-after-failures and stale-credentials count them.
type pairState struct {
	active   int64  // e.now (Unix ns) when last looked up: eviction order
	all      window // every failure, StaleCredentials.Window long
	familiar window // failures explained as familiar
	// hashes are the distinct short hashes of the wrong passwords
	// (auth_verbose_passwords = sha1), at most maxHashes; hashed counts
	// the attempts that logged one.
	hashes []string
	hashed int
}

// maxHashes caps the distinct password hashes a pair remembers.
const maxHashes = 8

// staleDevice reports whether the pair's failures repeat one wrong
// password (at least 3 times): a device with an old password, not a
// person guessing.
func (p *pairState) staleDevice() bool { return len(p.hashes) == 1 && p.hashed >= 3 }

// guessing reports whether the pair's failures tried at least 3
// different wrong passwords.
func (p *pairState) guessing() bool { return len(p.hashes) >= 3 }

type aggKey struct {
	rule, user, subject string
}

type agg struct {
	f       Finding
	msg     func(*agg) string // the Message, built on snapshot
	detail  func(*agg)        // fills detail (campaign members) on snapshot
	seq     int
	subject string // aggKey.subject
	addrs   map[string]struct{}
	users   map[string]struct{}
	// many lists Addresses only once more than one address took part
	// (brute-force and password-spray over an IPv6 /64).
	many bool
	// oneAccount is the one account a slow brute-force tried: the
	// finding is medium and accuses nobody until another name is tried.
	oneAccount string
}

// NewEngine returns an Engine for cfg. cfg should come from DefaultConfig
// or LoadConfig; out-of-range values are not checked again here.
func NewEngine(cfg Config, opts Options) *Engine {
	e := &Engine{
		cfg:         cfg,
		allow:       opts.Allow,
		base:        opts.Baseline,
		report:      make(map[Facet]bool),
		keepPending: opts.KeepPending,
		sources:     make(map[netip.Addr]*source),
		pairs:       make(map[pairKey]*pairState),
		users:       make(map[string]*userState),
		accused:     make(map[netip.Addr]*accusation),
		ownAccused:  make(map[string][]netip.Addr),
		findings:    make(map[aggKey]*agg),
		perRule:     make(map[string]int),

		maxSources: cfg.MaxSources,
	}
	if e.maxSources <= 0 {
		e.maxSources = DefaultConfig().MaxSources
	}
	// A pair or a user is a name and a window: half as many as sources
	// cover what real traffic needs, and attacker-chosen names evict
	// each other sooner.
	e.maxStates = min(maxStates, max(e.maxSources/2, 1))
	if e.base == nil {
		e.base = NewMemoryBaseline()
	}
	for _, f := range cfg.NewDevice.Report {
		e.report[Facet(f)] = true
	}
	return e
}

// Err returns the first error of the Baseline, if any. Rules that needed
// the baseline treated a failed lookup as "known" (no finding).
func (e *Engine) Err() error { return e.err }

// NotTracked returns how many sources were evicted, or never tracked,
// because MaxSources sources were tracked already.
func (e *Engine) NotTracked() int { return e.notTracked }

func (e *Engine) setErr(err error) {
	if err != nil && e.err == nil {
		e.err = err
	}
}

type input struct {
	ev    parse.Event
	o     ipranges.Origin
	t     time.Time
	addr  netip.Addr
	src   netip.Addr // the source key: addr, or its /64
	ip    string     // addr.String()
	proxy bool
	user  string // CanonicalUser(ev.User); "" when the event has none
}

// sourceKey returns the key of addr's attack state: an IPv6 client owns at
// least its /64, so counting per address would let it try each password
// from a fresh address.
func sourceKey(addr netip.Addr) netip.Addr {
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// sourceName spells a source key: the address, or the /64.
func sourceName(k netip.Addr) string {
	if k.Is6() {
		return netip.PrefixFrom(k, 64).String()
	}
	return k.String()
}

// Observe feeds one event with its address's origin and returns the
// findings it raised: each finding is returned once, when it becomes
// certain, as a snapshot (follow mode prints these). Failures are held up
// to Attribution.Window for an explanation, so attack findings come that
// much later in event time. Later events of the same rule and subject
// only update the finding kept for Flush. KindAuth events are detail
// lines and are ignored, as are events without a valid address. A
// KindClient event is remembered by its session (at most 65536, the
// oldest dropped): the successful login of that session from the same
// address then learns the client facet too.
func (e *Engine) Observe(ev parse.Event, o ipranges.Origin) []Finding {
	if ev.Kind == parse.KindAuth && ev.PasswordHash != "" && ev.HasUser && ev.Addr.IsValid() {
		// Not an attempt of its own (the login line counts it), but the
		// hash of the wrong password tells a device from a guesser.
		if p := e.pair(sourceKey(ev.Addr.Unmap().WithZone("")), CanonicalUser(ev.User)); p != nil {
			p.hashed++
			if len(p.hashes) < maxHashes && !slices.Contains(p.hashes, ev.PasswordHash) {
				p.hashes = append(p.hashes, ev.PasswordHash)
			}
		}
		return nil
	}
	if ev.Kind == parse.KindClient {
		// Not an attempt: the program the connection named, for the
		// client facet of its login.
		e.clients.remember(ev)
		return nil
	}
	if ev.Kind == parse.KindAuth || !ev.Addr.IsValid() {
		return nil
	}
	t := ev.Time
	if t.IsZero() {
		t = e.now // a stamp-less line happens "now"
	} else if t.After(e.now) {
		e.now = t
	}
	var out []Finding
	// Failures whose wait is over are attributed first: they happened
	// before this event.
	out = e.resolveDue(out)
	// A sweep costs the number of states: sweeping after half as many
	// events as were live after the last sweep costs O(1) per event (at a
	// quarter, sweeps were a quarter of the rules' time on a busy day);
	// an event adds at most three states, so in between idle state grows
	// by at most 1.5 times what was live (and the caps hold).
	e.events++
	if e.events-e.swept >= max(sweepEvery, e.live/2) {
		e.swept = e.events
		e.sweep()
		e.live = len(e.sources) + len(e.pairs) + len(e.users)
	}
	in := input{ev: ev, o: o, t: t, addr: ev.Addr.Unmap().WithZone("")}
	in.src = sourceKey(in.addr)
	in.ip = e.addrString(in.addr)
	// Webmail on loopback and trusted proxies in private space fail for
	// everybody from one address. A "secured" login from a public address
	// is a client whose address a trusted proxy forwarded (Dovecot
	// director/proxy, webmail sending x-originating-ip): it counts as
	// that client.
	in.proxy = in.addr.IsLoopback() ||
		ev.Secured && (in.addr.IsPrivate() || in.addr.IsLinkLocalUnicast() || o.Class == ipranges.Private)
	if ev.HasUser {
		in.user = CanonicalUser(ev.User)
	}
	switch {
	case ev.Refused || ev.Result == parse.Success:
		out = e.success(in, out)
	case ev.Result == parse.Failure:
		out = e.failure(in, out)
	}
	return out
}

// Flush returns every finding of the run, with final counts, in a
// deterministic order: by first time, then rule, user and address. It
// first attributes the failures still waiting (nothing later can explain
// them in this run), unless Options.KeepPending. Flush may be called more
// than once.
func (e *Engine) Flush() []Finding {
	if !e.keepPending {
		e.resolveAll()
	}
	return e.Findings()
}

// Drain attributes every failure still waiting, as at the end of the
// input, and returns the findings that raised, as Observe does: a live
// follower calls it when it stops.
func (e *Engine) Drain() []Finding { return e.resolveAll() }

// Findings returns the findings so far, as Flush does, without
// attributing the failures that still wait.
func (e *Engine) Findings() []Finding {
	all := make([]*agg, 0, len(e.findings))
	for _, a := range e.findings {
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b *agg) int {
		return cmp.Or(a.f.First.Compare(b.f.First), cmp.Compare(a.f.Rule, b.f.Rule),
			cmp.Compare(a.f.User, b.f.User), cmp.Compare(a.f.RemoteIP, b.f.RemoteIP),
			cmp.Compare(a.seq, b.seq))
	})
	out := make([]Finding, len(all))
	for i, a := range all {
		out[i] = e.snapshot(a)
	}
	return out
}

func (e *Engine) snapshot(a *agg) Finding {
	if a.detail != nil {
		a.detail(a)
	}
	f := a.f
	if a.msg != nil {
		f.Message = a.msg(a)
	}
	f.Evidence = slices.Clone(f.Evidence)
	f.Addresses = slices.Clone(f.Addresses)
	if a.many && f.RemoteIP != "" {
		f.Addresses = nil
	}
	if f.Campaign != nil {
		c := *f.Campaign
		c.Members = slices.Clone(c.Members)
		f.Campaign = &c
	}
	if f.Compromise != nil {
		c := *f.Compromise
		f.Compromise = &c
	}
	return f
}

// from names where a per-source finding came from: its address, or its
// IPv6 /64 and how many addresses of it took part.
func (a *agg) from() string {
	if a.f.RemoteIP != "" {
		return a.f.RemoteIP
	}
	return fmt.Sprintf("%s (%s)", a.subject, pluralSet(len(a.addrs), "address"))
}

// addSource records one more address of a per-source finding.
func (a *agg) addSource(ip string, limit int) {
	a.addAddr(ip, limit)
	if len(a.addrs) > 1 {
		a.f.RemoteIP = ""
	}
}

func attempts(ev parse.Event) int {
	return min(max(ev.Attempts, 1), maxAttemptsPerLine)
}

// user returns the state of the user name. When maxStates users are
// tracked, the least recently looked up quarter is dropped first: names
// are attacker-chosen.
func (e *Engine) user(name string) *userState {
	u := e.users[name]
	if u == nil {
		if len(e.users) >= e.maxStates {
			// Names are attacker-chosen: drop the least recently active
			// quarter rather than stop tracking.
			evictOldest(e.users, func(u *userState) int64 { return u.active })
		}
		u = &userState{}
		u.dist.distinct = &u.sources
		e.users[name] = u
	}
	u.active = e.now.UnixNano()
	return u
}

// pair returns the state of user's failures from src. When maxStates
// pairs are tracked, the least recently looked up quarter is dropped
// first.
func (e *Engine) pair(src netip.Addr, user string) *pairState {
	k := pairKey{src, user}
	p := e.pairs[k]
	if p == nil {
		if len(e.pairs) >= e.maxStates {
			evictOldest(e.pairs, func(p *pairState) int64 { return p.active })
		}
		p = &pairState{}
		e.pairs[k] = p
	}
	p.active = e.now.UnixNano()
	return p
}

// familiar reports whether the source of a login or failure is in user's
// baseline: its address, its network, its ASN (from GeoIP) or, for a cloud
// intermediary, its provider. A baseline error counts as familiar: no
// accusation on doubt.
func (e *Engine) familiar(user string, addr netip.Addr, o ipranges.Origin) bool {
	for _, d := range e.devices(addr, o) {
		if d.Facet == FacetCountry {
			continue
		}
		ok, err := e.base.Known(user, d)
		if err != nil {
			e.setErr(err)
			return true
		}
		if ok {
			return true
		}
	}
	return false
}

// devices returns the facets of a login from addr: those of Devices, and
// the provider of a cloud intermediary instead of its shared address and
// network.
//
// The result is shared: callers must not modify it. The last facets of
// each address are kept (up to maxDevMemo addresses), so a user's device
// logging in again formats no strings.
func (e *Engine) devices(addr netip.Addr, o ipranges.Origin) []Device {
	m, ok := e.devMemo[addr]
	if ok && m.class == o.Class && m.provider == o.Provider && m.asn == o.ASN && m.country == o.Country {
		return m.ds
	}
	if e.devMemo == nil || len(e.devMemo) >= maxDevMemo {
		e.devMemo = make(map[netip.Addr]devMemo)
	}
	ds := e.makeDevices(addr, o)
	e.devMemo[addr] = devMemo{o.Class, o.Provider, o.ASN, o.Country, ds}
	return ds
}

// addrString returns addr.String(), kept for the last maxDevMemo
// addresses: most events come from addresses seen before.
func (e *Engine) addrString(addr netip.Addr) string {
	if ip, ok := e.ipMemo[addr]; ok {
		return ip
	}
	if e.ipMemo == nil || len(e.ipMemo) >= maxDevMemo {
		e.ipMemo = make(map[netip.Addr]string)
	}
	ip := addr.String()
	e.ipMemo[addr] = ip
	return ip
}

// maxDevMemo bounds Engine.devMemo and Engine.ipMemo; when full they are
// emptied.
const maxDevMemo = 1 << 14

// devMemo is the facets of one address for the parts of an Origin they
// depend on.
type devMemo struct {
	class    ipranges.Class
	provider string
	asn      uint32
	country  string
	ds       []Device
}

// makeDevices computes devices.
func (e *Engine) makeDevices(addr netip.Addr, o ipranges.Origin) []Device {
	if o.Class == ipranges.Intermediary {
		p := strings.ToLower(o.Provider)
		if p == "" {
			p = "unknown"
		}
		return []Device{{FacetProvider, p}}
	}
	return Devices(addr, o, e.cfg.IPv4Prefix, e.cfg.IPv6Prefix)
}

// open creates the finding k from the items (which include the current
// event).
func (e *Engine) open(k aggKey, sev Severity, in input, hasUser bool, items []fail) *agg {
	e.seq++
	a := &agg{seq: e.seq, subject: k.subject, f: Finding{
		Rule: k.rule, Severity: sev, User: k.user, HasUser: hasUser,
		RemoteIP: in.ip, Origin: in.o, First: in.t, Last: in.t,
	}}
	for _, it := range items {
		a.add(it, e.cfg)
	}
	e.findings[k] = a
	e.perRule[k.rule]++
	return a
}

// overflowSubject keys the one overflow finding of a rule; no address or
// provider is spelt like it.
const overflowSubject = "\x00overflow"

// full reports whether rule keeps Config.MaxFindings findings already.
func (e *Engine) full(rule string) bool { return e.perRule[rule] >= e.cfg.MaxFindings }

// overflow folds an event of a rule that is full into the rule's overflow
// finding: same rule and severity (so a check still fails on it), no user
// and no address, counting the attempts or logins of every subject that
// was not kept.
func (e *Engine) overflow(rule string, sev Severity, t time.Time, f fail, out []Finding) []Finding {
	k := aggKey{rule: rule, subject: overflowSubject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.f.Severity = max(a.f.Severity, sev)
		return out
	}
	e.seq++
	a := &agg{seq: e.seq, subject: k.subject, f: Finding{Rule: rule, Severity: sev, First: t, Last: t}}
	a.add(f, e.cfg)
	limit := e.cfg.MaxFindings
	a.msg = func(a *agg) string {
		return fmt.Sprintf("more %s findings than the %d kept (max_findings): %s of other users or addresses are counted here, not listed",
			rule, limit, plural(a.f.Count, "more event"))
	}
	e.findings[k] = a
	return append(out, e.snapshot(a))
}

// add aggregates one failure (or event) into a.
func (a *agg) add(f fail, cfg Config) {
	a.f.Count += f.n
	if f.t.Before(a.f.First) {
		a.f.First = f.t
	}
	if f.t.After(a.f.Last) {
		a.f.Last = f.t
	}
	if len(a.f.Evidence) >= cfg.EvidenceCap {
		return
	}
	if ev := f.evidence(); ev != "" && !slices.Contains(a.f.Evidence, ev) {
		a.f.Evidence = append(a.f.Evidence, ev)
	}
}

func (a *agg) addAddr(s string, limit int) {
	if a.addrs == nil {
		a.addrs = make(map[string]struct{})
	}
	if _, ok := a.addrs[s]; ok || len(a.addrs) >= maxFindingSet {
		return
	}
	a.addrs[s] = struct{}{}
	if len(a.f.Addresses) < limit {
		a.f.Addresses = append(a.f.Addresses, s)
	}
}

func (a *agg) addUser(u string) {
	if a.users == nil {
		a.users = make(map[string]struct{})
	}
	if len(a.users) < maxFindingSet {
		a.users[u] = struct{}{}
	}
}

// simple opens or updates a one-event finding.
func (e *Engine) simple(k aggKey, sev Severity, in input, f fail, out []Finding, msg func(*agg) string) []Finding {
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, sev, in.t, f, out)
	}
	a := e.open(k, sev, in, in.ev.HasUser, []fail{f})
	a.msg = msg
	return append(out, e.snapshot(a))
}

// sweep drops state that no longer holds anything. A map that lost more
// than a quarter of its entries is rebuilt (see rebuilt).
func (e *Engine) sweep() {
	c := e.cfg
	n := len(e.sources)
	for k, s := range e.sources {
		if s.idle(e, e.now) {
			delete(e.sources, k)
		}
	}
	if len(e.sources) < n*3/4 {
		e.sources = rebuilt(e.sources)
	}
	n = len(e.pairs)
	for k, p := range e.pairs {
		p.all.prune(e.now.Add(-c.StaleCredentials.Window))
		p.familiar.prune(e.now.Add(-c.StaleCredentials.Window))
		if p.all.len() == 0 && p.familiar.len() == 0 {
			delete(e.pairs, k)
		}
	}
	if len(e.pairs) < n*3/4 {
		e.pairs = rebuilt(e.pairs)
	}
	n = len(e.users)
	for k, u := range e.users {
		u.dist.prune(e.now.Add(-c.DistributedAttack.Window))
		if u.dist.len() == 0 && (!u.hasLastLog || u.lastT.Before(e.now.Add(-c.ImpossibleTravel.Window))) {
			delete(e.users, k)
		}
	}
	if len(e.users) < n*3/4 {
		e.users = rebuilt(e.users)
	}
	n = len(e.accused)
	for k, a := range e.accused {
		if a.until.Before(e.now) {
			delete(e.accused, k)
		}
	}
	if len(e.accused) < n*3/4 {
		e.accused = rebuilt(e.accused)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "s"):
		return strconv.Itoa(n) + " " + thing + "es"
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// pluralSet is plural for the size of a capped set: "1000+ addresses"
// once the set is full.
func pluralSet(n int, thing string) string {
	s := plural(n, thing)
	if n >= maxFindingSet {
		s = strings.Replace(s, " ", "+ ", 1)
	}
	return s
}

// human prints d without trailing zero units: "1h", "10m", "1h30m".
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// CanonicalUser returns the form of a logged user name that the rules,
// the allowlist and the baseline compare: surrounding white space removed
// and lower-cased, as Dovecot's default auth_username_format (%Lu in 2.3,
// %{user|lower} in 2.4) does before any passdb lookup, so "Alice" and
// "alice " are the same account. Names that are not valid UTF-8 are
// lower-cased in ASCII only, so that distinct invalid bytes stay distinct.
func CanonicalUser(s string) string {
	s = strings.TrimSpace(s)
	if utf8.ValidString(s) {
		return strings.ToLower(s)
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
