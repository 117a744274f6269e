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
	// Baseline is what new-device compares against and what successful
	// logins are learned into; nil means a MemoryBaseline for this Engine.
	Baseline Baseline
}

// Bounds that keep an Engine's memory bounded on hostile input.
const (
	// maxAttemptsPerLine caps the "N attempts" one line may stand for.
	maxAttemptsPerLine = 1000
	// minWindowItems is the least number of failures a window keeps.
	minWindowItems = 4096
	// maxDistinct caps the distinct users or addresses a window counts.
	maxDistinct = 10000
	// maxFindingSet caps the distinct users or addresses one finding
	// counts for its message ("1000+ addresses").
	maxFindingSet = 1000
	// sweepEvery is the least number of events between sweeps of idle
	// state.
	sweepEvery = 1024
	// maxStates caps each kind of window state (addresses, networks,
	// user and address pairs, users). A flood of more distinct subjects
	// within one window than this is not tracked for the new subjects
	// until a sweep frees room; the subjects already tracked still are.
	maxStates = 1 << 18
)

// An Engine runs the rules over events in file order, on event time. It
// keeps one finding per rule and subject (user, address, provider) and
// aggregates later events into it. It is not safe for concurrent use.
type Engine struct {
	cfg    Config
	allow  *Allowlist
	base   Baseline
	report map[Facet]bool

	now    time.Time // latest event time seen: the windows' clock
	events int
	swept  int // e.events at the last sweep
	live   int // states left by the last sweep
	seq    int
	err    error

	addrs    map[netip.Addr]*addrState // by source: the address, or an IPv6 /64
	nets     map[netip.Prefix]*window
	pairs    map[pairKey]*window
	users    map[string]*userState
	findings map[aggKey]*agg
	perRule  map[string]int // findings kept per rule, for Config.MaxFindings
	// maxStates is the package's maxStates; tests lower it.
	maxStates int
}

// fail is one event in a window (failures; also the success that
// completes success-after-failures).
type fail struct {
	t    time.Time
	user string
	src  string // the distinct key for distributed-attack
	n    int
	file string
	line int
}

// window is a time window of failures, oldest first.
type window struct {
	buf      []fail // buf[head:] are live, oldest first
	head     int
	sum      int
	distinct map[string]int // nil when the window does not count distinct keys
	key      func(fail) (string, bool)
}

type addrState struct {
	bf, spray window
}

type userState struct {
	dist       window
	lastT      time.Time
	lastCC     string
	lastAddr   string
	hasLastLog bool
}

type pairKey struct {
	addr netip.Addr
	user string
}

type aggKey struct {
	rule, user, subject string
}

type agg struct {
	f       Finding
	msg     func(*agg) string // the Message, built on snapshot
	seq     int
	subject string // aggKey.subject
	addrs   map[string]struct{}
	users   map[string]struct{}
	// many lists Addresses only once more than one address took part
	// (brute-force and password-spray over an IPv6 /64).
	many bool
}

// NewEngine returns an Engine for cfg. cfg should come from DefaultConfig
// or LoadConfig; out-of-range values are not checked again here.
func NewEngine(cfg Config, opts Options) *Engine {
	e := &Engine{
		cfg:      cfg,
		allow:    opts.Allow,
		base:     opts.Baseline,
		report:   make(map[Facet]bool),
		addrs:    make(map[netip.Addr]*addrState),
		nets:     make(map[netip.Prefix]*window),
		pairs:    make(map[pairKey]*window),
		users:    make(map[string]*userState),
		findings: make(map[aggKey]*agg),
		perRule:  make(map[string]int),

		maxStates: maxStates,
	}
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

func (e *Engine) setErr(err error) {
	if err != nil && e.err == nil {
		e.err = err
	}
}

// Observe feeds one event with its address's origin and returns the
// findings it raised: each finding is returned once, when it becomes
// certain, as a snapshot (follow mode prints these). Later events of the
// same rule and subject only update the finding kept for Flush. KindAuth
// events are detail lines and are ignored, as are events without a
// valid address.
func (e *Engine) Observe(ev parse.Event, o ipranges.Origin) []Finding {
	if ev.Kind == parse.KindAuth || !ev.Addr.IsValid() {
		return nil
	}
	t := ev.Time
	if t.IsZero() {
		t = e.now // a stamp-less line happens "now"
	} else if t.After(e.now) {
		e.now = t
	}
	// A sweep costs the number of states and an event adds at most four:
	// sweeping after a quarter as many events as were live after the last
	// sweep costs O(1) per event and at most doubles memory.
	e.events++
	if e.events-e.swept >= max(sweepEvery, e.live/4) {
		e.swept = e.events
		e.sweep()
		e.live = len(e.addrs) + len(e.nets) + len(e.pairs) + len(e.users)
	}
	in := input{ev: ev, o: o, t: t, addr: ev.Addr.Unmap().WithZone("")}
	in.ip = in.addr.String()
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
	var out []Finding
	switch {
	case ev.Refused || ev.Result == parse.Success:
		out = e.success(in, out)
	case ev.Result == parse.Failure:
		out = e.failure(in, out)
	}
	return out
}

type input struct {
	ev    parse.Event
	o     ipranges.Origin
	t     time.Time
	addr  netip.Addr
	ip    string // addr.String()
	proxy bool
	user  string // CanonicalUser(ev.User); "" when the event has none
}

// evidence returns "file:line" of f's line ("-" for a nameless file), or
// "" when f has no position.
func (f fail) evidence() string {
	if f.line <= 0 && f.file == "" {
		return ""
	}
	file := f.file
	if file == "" {
		file = "-"
	}
	return file + ":" + strconv.Itoa(f.line)
}

// Flush returns every finding of the run, with final counts, in a
// deterministic order: by first time, then rule, user and address. It
// includes the findings Observe already returned; Flush may be called
// more than once.
func (e *Engine) Flush() []Finding {
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
		out[i] = a.snapshot()
	}
	return out
}

func (a *agg) snapshot() Finding {
	f := a.f
	if a.msg != nil {
		f.Message = a.msg(a)
	}
	f.Evidence = slices.Clone(f.Evidence)
	f.Addresses = slices.Clone(f.Addresses)
	if a.many && f.RemoteIP != "" {
		f.Addresses = nil
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

func (e *Engine) network(a netip.Addr) netip.Prefix {
	bits := e.cfg.IPv6Prefix
	if a.Is4() {
		bits = e.cfg.IPv4Prefix
	}
	p, _ := a.Prefix(bits)
	return p
}

// push adds f to w, first dropping what fell out of the window d.
func (e *Engine) push(w *window, f fail, d time.Duration, limit int) {
	cut := e.now.Add(-d)
	e.prune(w, cut)
	if f.t.Before(cut) {
		return
	}
	if n := max(minWindowItems, 2*limit); w.len() >= n {
		w.pop()
	}
	w.append(f)
	w.sum += f.n
	if w.key != nil {
		if k, ok := w.key(f); ok {
			if w.distinct == nil {
				w.distinct = make(map[string]int)
			}
			if _, seen := w.distinct[k]; seen || len(w.distinct) < maxDistinct {
				w.distinct[k]++
			}
		}
	}
}

func (e *Engine) prune(w *window, cut time.Time) {
	for w.len() > 0 && w.buf[w.head].t.Before(cut) {
		w.pop()
	}
}

func (w *window) pop() {
	f := w.buf[w.head]
	w.buf[w.head] = fail{}
	w.head++
	if w.head == len(w.buf) {
		w.buf, w.head = w.buf[:0], 0
	}
	w.sum -= f.n
	if w.key != nil {
		if k, ok := w.key(f); ok {
			if c, seen := w.distinct[k]; seen {
				if c <= 1 {
					delete(w.distinct, k)
				} else {
					w.distinct[k] = c - 1
				}
			}
		}
	}
	if len(w.buf) == 0 && cap(w.buf) > 64 {
		w.buf = nil // let a burst's array go
	}
}

// live returns the failures in the window, oldest first.
func (w *window) live() []fail { return w.buf[w.head:] }

// len returns the number of failures in the window.
func (w *window) len() int { return len(w.buf) - w.head }

// append adds f as the newest failure. When the array is full and at
// least half of it is dead, the live items slide back to its start, which
// costs O(1) per item over time.
func (w *window) append(f fail) {
	if len(w.buf) == cap(w.buf) && w.head >= len(w.buf)/2 && w.head > 0 {
		n := copy(w.buf, w.buf[w.head:])
		clear(w.buf[n:])
		w.buf, w.head = w.buf[:n], 0
	}
	w.buf = append(w.buf, f)
}

func spreadUser(f fail) (string, bool) { return f.user, f.user != "" }
func spreadSrc(f fail) (string, bool)  { return f.src, true }

func attempts(ev parse.Event) int {
	return min(max(ev.Attempts, 1), maxAttemptsPerLine)
}

func (e *Engine) failure(in input, out []Finding) []Finding {
	ev := in.ev
	n := attempts(ev)
	user := in.user
	f := fail{t: in.t, user: user, n: n, file: ev.File, line: ev.Line, src: in.ip}
	if in.o.Class == ipranges.Intermediary && in.o.Provider != "" {
		// A cloud service retrying a stale password comes from many of
		// its addresses: count it as one source.
		f.src = "provider:" + strings.ToLower(in.o.Provider)
	}
	if user != "" && e.cfg.DistributedAttack.Enabled {
		out = e.distributed(in, f, out)
	}
	if in.proxy {
		// Loopback webmail and trusted proxies fail for everybody from
		// one address: address rules would only raise noise.
		return out
	}
	if e.cfg.SuccessAfterFailures.Enabled {
		net := e.network(in.addr)
		w := e.nets[net]
		if w == nil && len(e.nets) < e.maxStates {
			w = &window{}
			e.nets[net] = w
		}
		if w != nil {
			e.push(w, f, e.cfg.SuccessAfterFailures.Window, e.cfg.SuccessAfterFailures.Failures)
		}
	}
	// A cloud intermediary's addresses are shared by all its users: many
	// users failing through one of them is no spray and no brute force.
	if in.o.Class != ipranges.Intermediary && (e.cfg.PasswordSpray.Enabled || e.cfg.BruteForce.Enabled) {
		// An IPv6 client owns at least its /64: counting per address
		// would let it try each password from a fresh address.
		src, subject := in.addr, in.ip
		if src.Is6() {
			p, _ := src.Prefix(64)
			src, subject = p.Addr(), p.String()
		}
		st := e.addrs[src]
		if st == nil && len(e.addrs) < e.maxStates {
			st = &addrState{}
			st.spray.key = spreadUser
			st.bf.key = spreadUser
			e.addrs[src] = st
		}
		if st != nil && e.cfg.PasswordSpray.Enabled {
			out = e.spray(in, subject, st, f, out)
		}
		if st != nil && e.cfg.BruteForce.Enabled {
			out = e.bruteForce(in, subject, st, f, out)
		}
	}
	if user != "" && e.cfg.StaleCredentials.Enabled {
		out = e.stale(in, f, out)
	}
	return out
}

func (e *Engine) spray(in input, subject string, st *addrState, f fail, out []Finding) []Finding {
	c := e.cfg.PasswordSpray
	e.push(&st.spray, f, c.Window, c.Users)
	k := aggKey{rule: RulePasswordSpray, subject: subject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addSource(in.ip, e.cfg.MaxAddresses)
		if f.user != "" {
			a.addUser(f.user)
		}
		return out
	}
	if len(st.spray.distinct) < c.Users {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in, f, out)
	}
	a := e.open(k, c.Severity, in, false, st.spray.live())
	a.many = true
	for _, it := range st.spray.live() {
		a.addSource(it.src, e.cfg.MaxAddresses)
		if it.user != "" {
			a.addUser(it.user)
		}
	}
	a.msg = func(a *agg) string {
		return fmt.Sprintf("%s for %s from %s (threshold %d within %s)",
			plural(a.f.Count, "failed attempt"), pluralSet(len(a.users), "distinct user"), a.from(), c.Users, human(c.Window))
	}
	return append(out, a.snapshot())
}

func (e *Engine) bruteForce(in input, subject string, st *addrState, f fail, out []Finding) []Finding {
	c := e.cfg.BruteForce
	e.push(&st.bf, f, c.Window, c.Failures)
	k := aggKey{rule: RuleBruteForce, subject: subject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addSource(in.ip, e.cfg.MaxAddresses)
		if a.f.HasUser && a.f.User != f.user {
			a.f.User, a.f.HasUser = "", false
		}
		return out
	}
	if st.bf.sum < c.Failures {
		return out
	}
	if e.cfg.PasswordSpray.Enabled && len(st.bf.distinct) >= e.cfg.PasswordSpray.Users {
		return out // password-spray reports this address
	}
	single := ""
	if len(st.bf.distinct) == 1 && st.bf.live()[0].user != "" {
		single = st.bf.live()[0].user
		for _, it := range st.bf.live() {
			if it.user != single {
				single = ""
				break
			}
		}
	}
	if single != "" && e.familiar(single, in.addr, in.o) {
		return out // the user's own device: stale-credentials reports it
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in, f, out)
	}
	a := e.open(k, c.Severity, in, single != "", st.bf.live())
	a.f.User = single
	a.many = true
	for _, it := range st.bf.live() {
		a.addSource(it.src, e.cfg.MaxAddresses)
	}
	a.msg = func(a *agg) string {
		who := ""
		if a.f.HasUser {
			who = fmt.Sprintf(" for %q", a.f.User)
		}
		return fmt.Sprintf("%s%s from %s (threshold %d within %s)", plural(a.f.Count, "failed attempt"), who, a.from(), c.Failures, human(c.Window))
	}
	return append(out, a.snapshot())
}

func (e *Engine) stale(in input, f fail, out []Finding) []Finding {
	c := e.cfg.StaleCredentials
	pk := pairKey{in.addr, f.user}
	w := e.pairs[pk]
	if w == nil {
		if len(e.pairs) >= e.maxStates {
			return out
		}
		w = &window{}
		e.pairs[pk] = w
	}
	e.push(w, f, c.Window, c.Failures)
	k := aggKey{rule: RuleStaleCredentials, user: f.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if w.sum < c.Failures {
		return out
	}
	if e.bruteForced(in.addr) {
		return out // already reported as brute force
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in, f, out)
	}
	a := e.open(k, c.Severity, in, true, w.live())
	a.f.User = f.user
	a.msg = staleMessage
	return append(out, a.snapshot())
}

func staleMessage(a *agg) string {
	return fmt.Sprintf("%s for %q from %s, spread over %s: a device with an outdated password, or a slow guessing attack",
		plural(a.f.Count, "failed attempt"), a.f.User, a.f.RemoteIP, human(a.f.Last.Sub(a.f.First).Round(time.Second)))
}

func (e *Engine) distributed(in input, f fail, out []Finding) []Finding {
	c := e.cfg.DistributedAttack
	u := e.user(f.user)
	if u == nil {
		return out
	}
	e.push(&u.dist, f, c.Window, c.Addresses)
	k := aggKey{rule: RuleDistributedAttack, user: f.user}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addAddr(in.ip, e.cfg.MaxAddresses)
		return out
	}
	if len(u.dist.distinct) < c.Addresses {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in, f, out)
	}
	a := e.open(k, c.Severity, in, true, u.dist.live())
	a.f.User = f.user
	a.f.RemoteIP = ""
	a.f.Origin = ipranges.Origin{}
	for _, it := range u.dist.live() {
		if !strings.HasPrefix(it.src, "provider:") {
			a.addAddr(it.src, e.cfg.MaxAddresses)
		}
	}
	a.addAddr(in.ip, e.cfg.MaxAddresses)
	a.msg = func(a *agg) string {
		return fmt.Sprintf("%s for %q from %s (threshold %d within %s)",
			plural(a.f.Count, "failed attempt"), a.f.User, pluralSet(len(a.addrs), "address"), c.Addresses, human(c.Window))
	}
	return append(out, a.snapshot())
}

// user returns the state of the user name, nil when maxStates users are
// tracked already.
func (e *Engine) user(name string) *userState {
	u := e.users[name]
	if u == nil {
		if len(e.users) >= e.maxStates {
			return nil
		}
		u = &userState{}
		u.dist.key = spreadSrc
		e.users[name] = u
	}
	return u
}

// familiar reports whether addr (or its network) is a learned device of
// user. A baseline error counts as familiar: no finding on doubt.
func (e *Engine) familiar(user string, addr netip.Addr, o ipranges.Origin) bool {
	for _, d := range Devices(addr, o, e.cfg.IPv4Prefix, e.cfg.IPv6Prefix) {
		if d.Facet != FacetAddress && d.Facet != FacetNetwork {
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

// open creates the finding k from the failures in items (which include
// the current event).
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
func (e *Engine) overflow(rule string, sev Severity, in input, f fail, out []Finding) []Finding {
	k := aggKey{rule: rule, subject: overflowSubject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.f.Severity = max(a.f.Severity, sev)
		return out
	}
	e.seq++
	a := &agg{seq: e.seq, subject: k.subject, f: Finding{Rule: rule, Severity: sev, First: in.t, Last: in.t}}
	a.add(f, e.cfg)
	limit := e.cfg.MaxFindings
	a.msg = func(a *agg) string {
		return fmt.Sprintf("more %s findings than the %d kept (max_findings): %s of other users or addresses are counted here, not listed",
			rule, limit, plural(a.f.Count, "more event"))
	}
	e.findings[k] = a
	return append(out, a.snapshot())
}

// bruteForced reports whether brute-force already reported addr (or its
// IPv6 /64).
func (e *Engine) bruteForced(addr netip.Addr) bool {
	subject := addr.String()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		subject = p.String()
	}
	return e.findings[aggKey{rule: RuleBruteForce, subject: subject}] != nil
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

// success handles a login whose credentials were accepted, including one
// refused afterwards (connection limit).
func (e *Engine) success(in input, out []Finding) []Finding {
	ev := in.ev
	user := in.user
	f := fail{t: in.t, user: user, n: 1, file: ev.File, line: ev.Line}
	allowed := e.allow.Allows(user, in.addr, in.o)
	if e.cfg.SuccessAfterFailures.Enabled && !in.proxy {
		out = e.successAfterFailures(in, f, out)
	}
	if e.allow != nil && e.cfg.NotAllowlisted.Enabled && !allowed {
		out = e.simple(aggKey{rule: RuleNotAllowlisted, user: user, subject: in.ip},
			e.cfg.NotAllowlisted.Severity, in, f, out, func(a *agg) string {
				return fmt.Sprintf("%s of %q from %s, which is not on the allowlist", plural(a.f.Count, "successful login"), a.f.User, a.f.RemoteIP)
			})
	}
	if in.o.Class == ipranges.Intermediary && e.cfg.CloudIntermediary.Enabled && (e.allow == nil || !allowed) {
		out = e.cloud(in, f, out)
	}
	// A secured connection's leg to us is trusted; the client's leg to the
	// proxy cannot be seen from here.
	if e.cfg.CleartextAuth.Enabled && ev.TLS == parse.TLSNo && !ev.Secured && !in.addr.IsLoopback() && !challengeResponse(ev.Method) {
		m := "cleartext"
		if ev.Method != "" {
			m = ev.Method
		}
		out = e.simple(aggKey{rule: RuleCleartextAuth, user: user, subject: in.ip},
			e.cfg.CleartextAuth.Severity, in, f, out, func(a *agg) string {
				return fmt.Sprintf("%s of %q from %s without TLS (%s credentials readable on the wire)", plural(a.f.Count, "login"), a.f.User, a.f.RemoteIP, m)
			})
	}
	if user == "" || in.proxy || in.o.Class == ipranges.Intermediary {
		return out
	}
	if e.cfg.ImpossibleTravel.Enabled && in.o.Class != ipranges.Private {
		out = e.travel(in, f, out)
	}
	return e.newDevice(in, f, e.allow != nil && allowed, out)
}

func challengeResponse(method string) bool {
	m := strings.ToUpper(method)
	return m == "CRAM-MD5" || m == "DIGEST-MD5" || strings.HasPrefix(m, "SCRAM-") ||
		m == "NTLM" || m == "GSSAPI" || m == "EXTERNAL"
}

// simple opens or updates a one-event finding.
func (e *Engine) simple(k aggKey, sev Severity, in input, f fail, out []Finding, msg func(*agg) string) []Finding {
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, sev, in, f, out)
	}
	a := e.open(k, sev, in, in.ev.HasUser, []fail{f})
	a.msg = msg
	return append(out, a.snapshot())
}

func (e *Engine) cloud(in input, f fail, out []Finding) []Finding {
	p := strings.ToLower(in.o.Provider)
	if p == "" {
		p = "unknown"
	}
	k := aggKey{rule: RuleCloudIntermediary, user: f.user, subject: p}
	a, fresh := e.findings[k], false
	if a == nil && e.full(k.rule) {
		return e.overflow(k.rule, e.cfg.CloudIntermediary.Severity, in, f, out)
	}
	if a == nil {
		a, fresh = e.open(k, e.cfg.CloudIntermediary.Severity, in, in.ev.HasUser, []fail{f}), true
		a.f.RemoteIP = ""
	} else {
		a.add(f, e.cfg)
	}
	a.addAddr(in.ip, e.cfg.MaxAddresses)
	if fresh {
		product := a.f.Origin.Product
		if product == "" {
			product = p
		}
		a.msg = func(a *agg) string {
			return fmt.Sprintf("%s of %q through %s (%s) from %s: a cloud service holds this user's password",
				plural(a.f.Count, "login"), a.f.User, p, product, pluralSet(len(a.addrs), "address"))
		}
		out = append(out, a.snapshot())
	}
	return out
}

func (e *Engine) successAfterFailures(in input, f fail, out []Finding) []Finding {
	c := e.cfg.SuccessAfterFailures
	w := e.nets[e.network(in.addr)]
	if w == nil {
		return out
	}
	e.prune(w, e.now.Add(-c.Window))
	live, sum := w.live(), w.sum
	if in.o.Class == ipranges.Intermediary {
		// A cloud intermediary's network carries all its users' logins:
		// only this user's failures tell of a guessed password.
		live, sum = nil, 0
		if f.user != "" {
			for _, it := range w.live() {
				if it.user == f.user {
					live, sum = append(live, it), sum+it.n
				}
			}
		}
	}
	if sum < c.Failures {
		return out
	}
	if c.IgnoreKnown && f.user != "" {
		own := true
		for _, it := range live {
			if it.user != f.user {
				own = false
				break
			}
		}
		if own && e.familiar(f.user, in.addr, in.o) {
			return out
		}
	}
	k := aggKey{rule: RuleSuccessAfterFailures, user: f.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in, f, out)
	}
	// Keep room for the success line itself in the evidence.
	items := live
	if len(items) >= e.cfg.EvidenceCap {
		items = items[len(items)-e.cfg.EvidenceCap+1:]
	}
	a := e.open(k, c.Severity, in, in.ev.HasUser, nil)
	for _, it := range items {
		if ev := it.evidence(); ev != "" && len(a.f.Evidence) < e.cfg.EvidenceCap-1 {
			a.f.Evidence = append(a.f.Evidence, ev)
		}
	}
	a.add(f, e.cfg)
	a.f.Count += sum
	first := live[0].t
	if first.Before(a.f.First) {
		a.f.First = first
	}
	failed, net := sum, e.network(in.addr)
	a.msg = func(a *agg) string {
		return fmt.Sprintf("successful login of %q from %s after %s from %s within %s: likely compromised password",
			a.f.User, a.f.RemoteIP, plural(failed, "failed attempt"), net, human(c.Window))
	}
	return append(out, a.snapshot())
}

func (e *Engine) travel(in input, f fail, out []Finding) []Finding {
	cc := strings.ToUpper(in.o.Country)
	if cc == "" {
		return out
	}
	u := e.user(f.user)
	if u == nil {
		return out
	}
	prevT, prevCC, prevAddr, had := u.lastT, u.lastCC, u.lastAddr, u.hasLastLog
	if !had || !in.t.Before(u.lastT) {
		u.lastT, u.lastCC, u.lastAddr, u.hasLastLog = in.t, cc, in.ip, true
	}
	if !had || prevCC == cc {
		return out
	}
	gap := in.t.Sub(prevT)
	if gap < 0 {
		gap = -gap
	}
	if gap >= e.cfg.ImpossibleTravel.Window {
		return out
	}
	k := aggKey{rule: RuleImpossibleTravel, user: f.user, subject: in.ip}
	return e.simple(k, e.cfg.ImpossibleTravel.Severity, in, f, out, func(a *agg) string {
		return fmt.Sprintf("login of %q from %s (%s) %s after a login from %s (%s)",
			a.f.User, a.f.RemoteIP, cc, human(gap.Round(time.Second)), prevAddr, prevCC)
	})
}

func (e *Engine) newDevice(in input, f fail, allowed bool, out []Finding) []Finding {
	c := e.cfg.NewDevice
	devs := Devices(in.addr, in.o, e.cfg.IPv4Prefix, e.cfg.IPv6Prefix)
	defer func() {
		for _, d := range devs {
			e.setErr(e.base.Learn(f.user, d, in.t))
		}
	}()
	k := aggKey{rule: RuleNewDevice, user: f.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if !c.Enabled || allowed || in.o.Class == ipranges.Private {
		return out
	}
	has, err := e.base.HasUser(f.user)
	if err != nil {
		e.setErr(err)
		return out
	}
	if !has {
		return out // first login ever seen: trust on first use
	}
	var fresh []string
	sev := Severity(0)
	for _, d := range devs {
		if !e.report[d.Facet] {
			continue
		}
		ok, err := e.base.Known(f.user, d)
		if err != nil {
			e.setErr(err)
			return out
		}
		if ok {
			continue
		}
		fresh = append(fresh, d.String())
		s := c.Severity
		if d.Facet == FacetCountry {
			s = c.CountrySeverity
		}
		sev = max(sev, s)
	}
	if len(fresh) == 0 {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, sev, in, f, out)
	}
	a := e.open(k, sev, in, true, []fail{f})
	msg := fmt.Sprintf("login of %q from a new %s", f.user, strings.Join(fresh, ", new "))
	a.msg = func(*agg) string { return msg }
	return append(out, a.snapshot())
}

// sweep drops window state that no longer holds anything.
func (e *Engine) sweep() {
	c := e.cfg
	for k, st := range e.addrs {
		e.prune(&st.bf, e.now.Add(-c.BruteForce.Window))
		e.prune(&st.spray, e.now.Add(-c.PasswordSpray.Window))
		if st.bf.len() == 0 && st.spray.len() == 0 {
			delete(e.addrs, k)
		}
	}
	for k, w := range e.nets {
		if e.prune(w, e.now.Add(-c.SuccessAfterFailures.Window)); w.len() == 0 {
			delete(e.nets, k)
		}
	}
	for k, w := range e.pairs {
		if e.prune(w, e.now.Add(-c.StaleCredentials.Window)); w.len() == 0 {
			delete(e.pairs, k)
		}
	}
	for k, u := range e.users {
		e.prune(&u.dist, e.now.Add(-c.DistributedAttack.Window))
		if u.dist.len() == 0 && (!u.hasLastLog || u.lastT.Before(e.now.Add(-c.ImpossibleTravel.Window))) {
			delete(e.users, k)
		}
	}
}

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
