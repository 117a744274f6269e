package rules

import (
	"net/netip"
	"slices"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// Attribution: every failure is explained before any attack rule counts
// it. A failure is
//   - familiar when its source is in the user's baseline (a phone with
//     a stale password): it feeds stale-credentials only;
//   - a typo when the same user logs in from the same source within
//     Attribution.Window (fewer than brute_force.failures of them: more is
//     guessing);
//   - for a failure that names no user (Postfix without sasl_username),
//     explained when the source had a trusted login within the window, or
//     is some user's known address (a shared gateway);
//   - tolerated when its source had logins of Attribution.SharedUsers
//     distinct users within a day (an office): Attribution.Tolerance a day
//     per such user;
//   - otherwise hostile. Hostile failures feed brute-force,
//     password-spray, spray-campaign and distributed-attack.
// A failure that is neither familiar nor, when it names no user, already
// explained waits up to Attribution.Window in a queue.

// source is the attack and login state of one source key.
type source struct {
	lastSeen time.Time
	// Hostile attempts within the longer of BruteForce.SlowWindow and
	// PasswordSpray.Window; the newest burstN of them (summing burstSum
	// attempts) are within BruteForce.Window of the newest: the burst.
	day      window
	burstN   int
	burstSum int
	hostile  int       // hostile attempts since tracked
	named    int       // of which naming a user
	tried    keyCounts // named users tried (hostile), capped
	// Trusted logins: the latest, and the distinct users with their
	// latest, for unnamed failures and tolerance.
	lastOK    time.Time
	okUsers   []userSeen
	tolerated int
	tolFrom   time.Time
	pending   int // failures of this source waiting for attribution
	// ownAt is the latest named failure from here that was a user's own
	// (familiar, a stale device, a typo): unnamed failures near it are
	// the same device's (a phone's SMTP beside its IMAP).
	ownAt time.Time
	// recent are logins from this source that were new to their user:
	// if the source is accused later, they are account-compromise.
	recent []recentLogin
}

// recentLogin is a login new to its user, kept for a later accusation of
// its source.
type recentLogin struct {
	user    string
	t       time.Time
	file    string
	line    int
	ip      string
	o       ipranges.Origin
	learned []Device // the facets this login taught the baseline
	sasl    bool
}

const (
	maxTried   = 1000 // named users a source's state remembers
	maxOKUsers = 256  // users with trusted logins a source remembers
	maxRecent  = 16   // logins new to their users a source remembers
)

// idle reports whether s holds nothing that is still useful at now.
func (s *source) idle(e *Engine, now time.Time) bool {
	c := e.cfg
	s.day.prune(now.Add(-dayWindow(c)))
	s.pruneBurst(now.Add(-c.BruteForce.Window))
	day := 24 * time.Hour
	s.okUsers = slices.DeleteFunc(s.okUsers, func(u userSeen) bool { return u.t.Before(now.Add(-day)) })
	if len(s.okUsers) == 0 {
		s.okUsers = nil
	}
	s.recent = dropOld(s.recent, now.Add(-c.Retention))
	return s.day.len() == 0 && len(s.okUsers) == 0 &&
		s.pending == 0 && len(s.recent) == 0
}

// pushHostile adds one hostile attempt to the day window and the burst.
// Windows slide on the attempt's own time: it is attributed up to
// Attribution.Window after it happened.
func (s *source) pushHostile(f fail, c Config) {
	s.day.push(f, f.t, dayWindow(c), max(c.BruteForce.SlowFailures, c.PasswordSpray.Users, c.BruteForce.Failures))
	s.burstN++
	s.burstSum += f.n
	s.pruneBurst(f.t.Add(-c.BruteForce.Window))
}

// dayWindow is how long a source's hostile attempts are kept.
func dayWindow(c Config) time.Duration {
	return max(c.BruteForce.SlowWindow, c.PasswordSpray.Window, c.BruteForce.Window)
}

// pruneBurst drops from the burst what the day window dropped and the
// attempts older than cut.
func (s *source) pruneBurst(cut time.Time) {
	live := s.day.live()
	if s.burstN > len(live) {
		s.burstN, s.burstSum = len(live), 0
		for _, f := range live {
			s.burstSum += f.n
		}
	}
	for s.burstN > 0 && live[len(live)-s.burstN].t.Before(cut) {
		s.burstSum -= live[len(live)-s.burstN].n
		s.burstN--
	}
}

// burst returns the attempts of the burst, oldest first.
func (s *source) burst() []fail {
	live := s.day.live()
	return live[len(live)-s.burstN:]
}

func dropOld(r []recentLogin, cut time.Time) []recentLogin {
	i := 0
	for i < len(r) && r[i].t.Before(cut) {
		i++
	}
	if i == 0 {
		return r
	}
	return append(r[:0], r[i:]...)
}

// source returns the state of key, creating it; nil when MaxSources
// sources are tracked and none could be evicted.
func (e *Engine) source(key netip.Addr) *source {
	if s := e.sources[key]; s != nil {
		return s
	}
	if len(e.sources) >= e.maxSources {
		e.evict()
		if len(e.sources) >= e.maxSources {
			e.notTracked++
			return nil
		}
	}
	s := &source{}
	e.sources[key] = s
	return s
}

// evict drops the least recently seen quarter of the sources, counting
// them as not tracked: a flood of distinct addresses costs O(1) per
// address and bounded memory. Their waiting failures are still attributed
// (without per-source state) and still count for campaigns.
func (e *Engine) evict() {
	e.notTracked += evictOldest(e.sources, func(s *source) int64 { return s.lastSeen.UnixNano() })
}

// evictOldest deletes the quarter of m's entries that were least
// recently active (by active, ties included) and returns how many it
// deleted.
func evictOldest[K comparable, V any](m map[K]V, active func(V) int64) int {
	ts := make([]int64, 0, len(m))
	for _, v := range m {
		ts = append(ts, active(v))
	}
	if len(ts) == 0 {
		return 0
	}
	cut := quantileInt(ts, len(ts)/4)
	n := len(m)
	for k, v := range m {
		if active(v) <= cut {
			delete(m, k)
		}
	}
	return n - len(m)
}

// rebuilt returns m copied into a new map: a Go map never shrinks, so
// after a sweep emptied much of it (a flood ended) the copy gives the
// memory back.
func rebuilt[K comparable, V any](m map[K]V) map[K]V {
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// quantileInt returns the k-th smallest of xs (by selection; xs is
// reordered).
func quantileInt(xs []int64, k int) int64 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		p := xs[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for xs[i] < p {
				i++
			}
			for p < xs[j] {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// lastOf returns the time of w's newest item.
func (w *window) lastOf() time.Time {
	if w.len() == 0 {
		return time.Time{}
	}
	return w.buf[len(w.buf)-1].t
}

// pendingFail is a failure waiting for its attribution.
type pendingFail struct {
	f       fail
	src     netip.Addr
	ip      string
	o       ipranges.Origin
	service string
	done    bool // explained, or attributed early
}

// pendingQueue holds failures in arrival order, in chunks of
// pendingChunk: it grows and shrinks without copying or doubling.
type pendingQueue struct {
	chunks [][]pendingFail // chunks[0][head:] is the oldest; all but the last are full
	head   int
	n      int
}

const pendingChunk = 1024

func (q *pendingQueue) len() int { return q.n }

// at returns the i-th waiting failure, oldest first.
func (q *pendingQueue) at(i int) *pendingFail {
	i += q.head
	return &q.chunks[i/pendingChunk][i%pendingChunk]
}

func (q *pendingQueue) push(p pendingFail) {
	if len(q.chunks) == 0 || len(q.chunks[len(q.chunks)-1]) == pendingChunk {
		q.chunks = append(q.chunks, make([]pendingFail, 0, pendingChunk))
	}
	last := &q.chunks[len(q.chunks)-1]
	*last = append(*last, p)
	q.n++
}

func (q *pendingQueue) pop() pendingFail {
	p := q.chunks[0][q.head]
	q.chunks[0][q.head] = pendingFail{}
	q.head++
	q.n--
	switch {
	case q.n == 0:
		q.chunks = q.chunks[:1]
		q.chunks[0], q.head = q.chunks[0][:0], 0
	case q.head == pendingChunk:
		q.chunks[0] = nil
		q.chunks, q.head = q.chunks[1:], 0
	}
	return p
}

// failure attributes one failed login.
func (e *Engine) failure(in input, out []Finding) []Finding {
	ev := in.ev
	f := fail{t: in.t, user: in.user, n: attempts(ev), file: ev.File, line: ev.Line}
	if in.proxy {
		// Loopback webmail and trusted proxies fail for everybody from
		// one address: they are no source of attacks.
		return out
	}
	if s := e.sources[in.src]; s != nil {
		s.lastSeen = in.t
	}
	if in.user != "" {
		// Names are attacker-chosen: pairs are capped, the least
		// recently active dropped first.
		p := e.pair(in.src, in.user)
		if p != nil {
			p.all.push(f, e.now, e.cfg.StaleCredentials.Window, e.cfg.StaleCredentials.Failures)
		}
		if p != nil && p.staleDevice() || e.familiar(in.user, in.addr, in.o) {
			if s := e.source(in.src); s != nil {
				s.ownAt = maxTime(s.ownAt, in.t)
				s.lastSeen = in.t
				if in.o.Class == ipranges.Intermediary {
					// A provider's address is everybody's: the name still
					// counts as tried there, should a spray through it
					// be found (its user may use the provider too).
					s.addTried(in.user)
				}
			}
			if p != nil {
				p.familiar.push(f, e.now, e.cfg.StaleCredentials.Window, e.cfg.StaleCredentials.Failures)
			}
			if e.cfg.StaleCredentials.Enabled && p != nil {
				out = e.stale(in, p, f, out)
			}
			return out
		}
	} else if e.sharedGateway(in) {
		return out
	}
	s := e.source(in.src)
	if s != nil {
		s.pending++
		s.lastSeen = in.t
	}
	e.pending.push(pendingFail{f: f, src: in.src, ip: in.ip, o: in.o, service: ev.Service})
	for e.pending.len() > maxPending {
		out = e.resolve(e.pending.pop(), out)
	}
	return out
}

// sharedGateway reports whether an unnamed failure from in's source is
// explained at once: the source had a trusted login within the window, or
// is some user's known address or in the wide network of one.
func (e *Engine) sharedGateway(in input) bool {
	if in.o.Class == ipranges.Intermediary {
		return false // shared by the provider's users: no proof of anything
	}
	if s := e.sources[in.src]; s != nil && !s.lastOK.IsZero() && !s.lastOK.Before(in.t.Add(-e.cfg.Attribution.Window)) {
		return true
	}
	// Some user's known address, or the wide network (/16, IPv6 /32) of
	// some user's known address: a phone's SMTP retrying a stale password
	// from its carrier's rotating addresses names nobody.
	// Only these two facets: no network or ASN strings per failure.
	ds := [2]Device{{FacetAddress, in.ip}}
	n := 1
	bits := e.cfg.IPv6Prefix
	if in.addr.Is4() {
		bits = e.cfg.IPv4Prefix
	}
	if w, ok := wideNetwork(in.addr, bits); ok {
		ds[1], n = w, 2
	}
	for _, d := range ds[:n] {
		ok, err := e.base.KnownAnywhere(d)
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

// resolveDue attributes the failures whose wait is over.
func (e *Engine) resolveDue(out []Finding) []Finding {
	cut := e.now.Add(-e.cfg.Attribution.Window)
	for e.pending.len() > 0 && e.pending.at(0).f.t.Before(cut) {
		out = e.resolve(e.pending.pop(), out)
	}
	return out
}

// resolveAll attributes every waiting failure and returns the findings
// that raised.
func (e *Engine) resolveAll() []Finding {
	var out []Finding
	for e.pending.len() > 0 {
		out = e.resolve(e.pending.pop(), out)
	}
	return out
}

// resolve attributes p, whose wait is over: tolerated or hostile.
func (e *Engine) resolve(p pendingFail, out []Finding) []Finding {
	s := e.sources[p.src]
	if s != nil && s.pending > 0 {
		s.pending--
	}
	if p.done {
		return out
	}
	if p.f.user != "" {
		if pr := e.pairs[pairKey{p.src, p.f.user}]; pr != nil && pr.staleDevice() {
			// One wrong password repeated: a device, counted as such.
			if s != nil {
				s.ownAt = maxTime(s.ownAt, p.f.t)
			}
			pr.familiar.push(p.f, p.f.t, e.cfg.StaleCredentials.Window, e.cfg.StaleCredentials.Failures)
			if a := e.findings[aggKey{rule: RuleStaleCredentials, user: p.f.user, subject: p.ip}]; a != nil {
				a.add(p.f, e.cfg)
			}
			return out
		}
	}
	if p.f.user == "" && s != nil && !s.ownAt.IsZero() && absDur(p.f.t.Sub(s.ownAt)) <= e.cfg.Attribution.Window {
		return out // beside a user's own failure: the same device
	}
	if s != nil && e.tolerate(s, p) {
		return out
	}
	return e.hostile(p, s, out)
}

// tolerate reports whether a busy shared source (an office) absorbs p.
func (e *Engine) tolerate(s *source, p pendingFail) bool {
	c := e.cfg.Attribution
	// A cloud intermediary's address carries all its users' logins, but
	// their own failures there are explained by the provider in their
	// baselines: what is left is somebody else's.
	if e.accused[p.src] != nil || c.Tolerance == 0 || p.o.Class == ipranges.Intermediary {
		return false
	}
	day := 24 * time.Hour
	users := 0
	for _, u := range s.okUsers {
		if !u.t.Before(p.f.t.Add(-day)) {
			users++
		}
	}
	if users < c.SharedUsers {
		return false
	}
	if s.tolFrom.IsZero() || p.f.t.Sub(s.tolFrom) > day {
		s.tolFrom, s.tolerated = p.f.t, 0
	}
	if s.tolerated+p.f.n > c.Tolerance*users {
		return false
	}
	s.tolerated += p.f.n
	return true
}

// explainBy attributes the waiting failures of in's source that a
// successful login of in.user explains: that user's own (a typo) and
// those naming nobody. When these are many (brute_force.failures or
// more), they are guessing: they are attributed as hostile at once,
// before the login is judged.
func (e *Engine) explainBy(in input, s *source, out []Finding) []Finding {
	q := &e.pending
	own := 0 // the user's own waiting failures, and those naming nobody
	for i := range q.len() {
		p := q.at(i)
		if !p.done && p.src == in.src && (p.f.user == in.user || p.f.user == "") {
			own += p.f.n
		}
	}
	guessing := own >= e.cfg.BruteForce.Failures
	if pr := e.pairs[pairKey{in.src, in.user}]; pr != nil && pr.guessing() {
		guessing = true // several different wrong passwords: no typo
	}
	if e.accusedAt(in.src, in.t) != nil {
		guessing = true // an accused source gets no benefit of the doubt
	}
	for i := range q.len() {
		p := q.at(i)
		if p.done || p.src != in.src {
			continue
		}
		switch {
		case (p.f.user == in.user || p.f.user == "") && guessing:
			p.done = true
			out = e.hostile(*p, s, out)
		case p.f.user == in.user, p.f.user == "":
			p.done = true
			if p.f.user != "" {
				s.ownAt = maxTime(s.ownAt, p.f.t)
			}
		}
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// addTried records that a failure named user, within maxTried names.
func (s *source) addTried(user string) {
	if !s.tried.has(user) {
		s.tried.add(user, maxTried)
	}
}

// trustedLogin records a login that raised nothing serious from s: it
// explains unnamed failures and earns tolerance.
func (s *source) trustedLogin(user string, t time.Time) {
	if t.After(s.lastOK) {
		s.lastOK = t
	}
	for i := range s.okUsers {
		if s.okUsers[i].user == user {
			s.okUsers[i].t = maxTime(s.okUsers[i].t, t)
			return
		}
	}
	if len(s.okUsers) < maxOKUsers {
		s.okUsers = append(s.okUsers, userSeen{user, t})
	}
}

// userSeen is a user's latest trusted login from a source.
type userSeen struct {
	user string
	t    time.Time
}
