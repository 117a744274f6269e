package loggen

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// DayConfig configures WriteDay. Zero fields take the defaults in brackets.
type DayConfig struct {
	Seed     int64         // [1]
	Start    time.Time     // [2026-03-02 06:00 UTC]
	Duration time.Duration // [32h]
	Users    int           // [200]; at least 60
	Lines    int           // approx total lines incl. bookkeeping noise [1_000_000]
	Host     string        // ["mx1"]
}

// Truth is what WriteDay put into a log: the legitimate users and where
// they came from, and every attack, so detection rules can be scored.
type Truth struct {
	Start, End time.Time
	Users      []TruthUser
	Offices    []TruthOffice
	// Attackers lists every address an attacker used, one entry per
	// address, sorted by address.
	Attackers []TruthAttacker
	// Campaigns are the distributed password sprays.
	Campaigns   []TruthCampaign
	Compromises []TruthCompromise
	// StaleDevices are legitimate devices failing with an old password,
	// one entry per user and address.
	StaleDevices []TruthStale
	// NewPhones are legitimate new devices: failures with the old
	// password, then a success from the same new address.
	NewPhones []TruthNewPhone
	// Intermediaries are the relaying addresses legitimate users' logins
	// came through: Exchange Online (52.98.x), Outlook mobile (52.125.x),
	// Google's mail fetcher and the local webmail (127.0.0.1). An attacker
	// may use one of them too (Kind "cloud-spray").
	Intermediaries []string
	// Lines is the number of lines written.
	Lines int
}

// TruthUser is one mailbox. Own is every address the user's own devices
// used (home, phone, office NAT), sorted; intermediaries are not in it.
type TruthUser struct {
	Name string
	Own  []string
}

// TruthOffice is one office NAT address and the users behind it.
type TruthOffice struct {
	Addr  string
	Users []string
}

// TruthAttacker is one address an attacker used.
type TruthAttacker struct {
	Addr string
	// Kind is "brute-force", "spray", "campaign", "slow" or "cloud-spray".
	Kind string
	// Campaign is the campaign id for Kind "campaign", else "".
	Campaign string
	// Attempts counts the failed authentication attempts as the log counts
	// them: the N of a Dovecot "N attempts" line, 1 per Postfix line.
	Attempts int
	// Succeeded lists the users this address logged in as.
	Succeeded []string
}

// TruthCampaign is one distributed password spray. Targets is the number
// of distinct account names tried; Unnamed the number of attempts whose
// log line shows no user name (Postfix SASL failures without
// sasl_username).
type TruthCampaign struct {
	ID          string
	Addrs       []string
	First, Last time.Time
	Targets     int
	Unnamed     int
}

// TruthCompromise is an attacker's successful login with a real user's
// password. Submission reports that the address then sent mail as the user.
type TruthCompromise struct {
	User, Addr string
	Success    time.Time
	Submission bool
	Campaign   string
}

// TruthStale is a legitimate device failing with an old password.
type TruthStale struct {
	User, Addr string
	Failures   int
}

// TruthNewPhone is a legitimate new device that failed with the old
// password before its first success.
type TruthNewPhone struct {
	User, Addr string
	Failures   int
	Success    time.Time
}

// WriteJSON writes t as indented JSON, the same bytes for the same Truth.
func (t *Truth) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteDay writes a realistic day of syslog (RFC 3164 lines, "Mon _2
// 15:04:05 host ident: msg", in time order) to w and returns what it put
// there. The same config gives the same bytes.
//
// The day holds the users' own devices (home broadband, phones on mobile
// carriers with changing addresses, office NATs), cloud intermediaries
// (Exchange Online, Outlook mobile, Google's fetcher, local webmail),
// typos fixed moments later, stale devices with an old password, new
// phones, brute force from hosting ranges, distributed password sprays
// (one ending in a compromise with mail sent), low-and-slow guessing, a
// spray through one Exchange Online address, scanners, and Postfix and
// Dovecot bookkeeping lines that fill the log up to about cfg.Lines (the
// attacks alone take some 10 000 lines, so a smaller Lines is exceeded).
//
// Dovecot lines have the 2.3.21 shapes. Postfix SASL failures mix the
// ≤ 3.8 shape (no user) and the ≥ 3.9 shape (", sasl_username=…",
// "(unavailable)" when there is none); about 75 % of them name no user.
func WriteDay(w io.Writer, cfg DayConfig) (*Truth, error) {
	d, err := planDay(cfg)
	if err != nil {
		return nil, err
	}
	return d.write(w, nil)
}

// ErrDayConfig is wrapped by WriteDay's errors about its DayConfig.
var ErrDayConfig = errors.New("invalid day config")

func (c *DayConfig) fill() error {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	}
	if c.Duration == 0 {
		c.Duration = 32 * time.Hour
	}
	if c.Users == 0 {
		c.Users = 200
	}
	if c.Lines == 0 {
		c.Lines = 1_000_000
	}
	if c.Host == "" {
		c.Host = "mx1"
	}
	switch {
	case c.Duration < 12*time.Hour || c.Duration > 31*24*time.Hour:
		return fmt.Errorf("loggen: day duration %v: want 12h to 31 days: %w", c.Duration, ErrDayConfig)
	case c.Users < 60 || c.Users > 20000:
		return fmt.Errorf("loggen: %d users: want 60 to 20000: %w", c.Users, ErrDayConfig)
	case c.Lines < 0:
		return fmt.Errorf("loggen: %d lines: want a positive number: %w", c.Lines, ErrDayConfig)
	case strings.ContainsAny(c.Host, " \t\r\n:"):
		return fmt.Errorf("loggen: host %q: want one word: %w", c.Host, ErrDayConfig)
	}
	return nil
}

// op is what a planned line says.
type op uint8

const (
	opLogin      op = iota + 1 // Dovecot "Login:" (success)
	opLoginFail                // Dovecot "Disconnected: … (auth failed, N attempts …)"
	opAuthDetail               // Dovecot auth-worker "Password mismatch" / "unknown user"
	opNoAuth                   // Dovecot "(no auth attempts …)", user=<>
	opSASLOK                   // Postfix "QID: client=…, sasl_method=…, sasl_username=…"
	opSASLFail                 // Postfix "warning: …: SASL M authentication failed: …"
	opConnect                  // Postfix "connect from …"
	opDisconnect               // Postfix "disconnect from … auth=…" (n: 1 = auth ok)
	opLost                     // Postfix "lost connection after CONNECT from …"
)

// Services: svcIMAP and svcPOP3 for Dovecot; the Postfix smtpd instances.
const (
	svcIMAP uint8 = iota
	svcPOP3
	svcSMTP       // postfix/smtpd (port 25)
	svcSubmission // postfix/submission/smtpd
	svcSMTPS      // postfix/smtps/smtpd
)

// rec is one planned scenario line.
type rec struct {
	at     int64 // ns after Start
	seq    int32
	pid    int32 // Postfix smtpd pid (a session's lines share it)
	op     op
	svc    uint8
	n      uint8 // attempts of opLoginFail; 1 = auth ok for opDisconnect
	named  bool  // opSASLFail shows the user
	known  bool  // opAuthDetail: the user exists (Password mismatch)
	method string
	user   string // the intended user, shown or not
	addr   string
}

// device kinds.
type devKind uint8

const (
	devHome devKind = iota
	devPhone
	devOffice
	devEXO     // new Outlook via Exchange Online
	devOLM     // Outlook mobile
	devGmail   // Gmail's POP3 fetcher
	devWebmail // local webmail on 127.0.0.1
	nDevKinds
)

// span is an address a device used from at on.
type span struct {
	from int64
	addr string
}

type device struct {
	kind   devKind
	weight float64
	spans  []span   // own devices
	pool   []string // intermediaries: any of these per login
	svc    uint8
	method string
	// failFrom/failTo: a stale device fails in [failFrom, failTo).
	failFrom, failTo int64
	stale            bool
}

type user struct {
	name    string
	office  int // -1 = none
	devices []*device
	own     map[string]bool
	busy    bool // already the subject of a scenario (stale, new phone)
}

type planner struct {
	cfg   DayConfig
	r     *rand.Rand
	dur   int64
	recs  []rec
	users []*user
	names map[string]bool
	used  map[string]string // address -> "user" | "attacker" | "scanner" | "cloud"
	avoid map[[2]byte]bool  // /16s attackers must not use (users', hosting)
	inter map[string]bool   // intermediaries legit users used
	pid   int32
	truth *Truth
	atk   map[string]*TruthAttacker
	// scale of legit logins: λ per ns per unit weight and activity.
	lambda float64
}

// day is a planned day, ready to write.
type day struct {
	cfg   DayConfig
	recs  []rec
	names []string // users, for bookkeeping lines
	truth *Truth
}

const (
	minute = int64(time.Minute)
	second = int64(time.Second)
	hour   = int64(time.Hour)
)

func planDay(cfg DayConfig) (*day, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	p := &planner{
		cfg:   cfg,
		r:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x646179706c616e)),
		dur:   int64(cfg.Duration),
		names: map[string]bool{},
		used:  map[string]string{},
		avoid: map[[2]byte]bool{},
		inter: map[string]bool{},
		pid:   11000,
		truth: &Truth{Start: cfg.Start, End: cfg.Start.Add(cfg.Duration)},
		atk:   map[string]*TruthAttacker{},
	}
	for _, n := range homeNets {
		p.avoid[n] = true
	}
	for _, n := range mobileNets {
		p.avoid[n] = true
	}
	for _, n := range businessNets {
		p.avoid[n] = true
	}
	for _, h := range hostingV4 {
		p.avoid[[2]byte{h[0], h[1]}] = true
	}
	p.makeUsers()
	p.makeOffices()
	p.calibrate()
	p.planStale()    // before legit logins: removes the stale device's successes
	p.planNewPhone() // adds devices
	for _, u := range p.users {
		for _, dv := range u.devices {
			p.legit(u, dv)
		}
	}
	p.submissions()
	p.typos()
	p.bruteForce()
	p.sprays()
	p.campaigns()
	p.slow()
	p.cloudSpray()
	p.scanners()
	return p.finish(), nil
}

// --- randomness helpers ---

func (p *planner) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + p.r.Int64N(hi-lo)
}

func (p *planner) intIn(lo, hi int) int { return lo + p.r.IntN(hi-lo+1) }

func (p *planner) chance(f float64) bool { return p.r.Float64() < f }

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// --- addresses ---

// The users' networks (/16s). They are residential-, mobile- and
// business-looking; no attacker address is drawn from them.
var (
	homeNets     = [][2]byte{{79, 200}, {79, 217}, {87, 150}, {91, 40}, {93, 199}, {84, 160}, {88, 64}, {92, 72}, {188, 100}, {89, 12}, {78, 48}, {85, 176}, {87, 122}, {77, 3}}
	mobileNets   = [][2]byte{{80, 187}, {109, 40}, {82, 113}, {176, 0}, {37, 80}}
	mobileV6     = []string{"2a01:598", "2a00:20", "2a02:3036"}
	businessNets = [][2]byte{{212, 114}, {195, 243}, {217, 6}, {62, 153}, {213, 61}}
	// Hosting /24s of brute-force sources and some scanners.
	hostingV4 = [][3]byte{{45, 134, 26}, {45, 155, 205}, {45, 148, 10}, {45, 95, 147}, {80, 94, 95}, {80, 94, 92}, {185, 220, 101}, {185, 224, 128}, {185, 196, 8}, {185, 156, 73}, {193, 32, 162}, {193, 42, 33}, {141, 98, 10}, {141, 98, 11}, {194, 169, 175}, {91, 92, 242}, {87, 120, 84}, {5, 188, 206}, {89, 248, 165}, {147, 78, 47}}
	hostingV6 = []string{"2a03:b0c0:3", "2001:41d0:303", "2604:a880:800", "2a0e:97c0:3e3"} // /48s; one /64 per server
	// First octets of residential space around the world (proxy pools).
	residentialFirst = []byte{2, 5, 24, 31, 37, 46, 62, 67, 68, 71, 73, 76, 78, 81, 83, 86, 90, 95, 98, 99, 109, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 151, 171, 176, 177, 179, 180, 181, 182, 183, 186, 187, 189, 190, 191, 200, 201, 222, 223}
	exoFixed         = []string{"52.98.204.101", "52.98.207.109"}
)

func v4(a, b, c, d byte) string { return netip.AddrFrom4([4]byte{a, b, c, d}).String() }

// v6 returns prefix (4 hextets or fewer) + random rest as a canonical address.
func (p *planner) v6(prefix string, hextets int) string {
	s := prefix
	for range 8 - hextets {
		s += fmt.Sprintf(":%x", 1+p.r.IntN(0xfffe))
	}
	return netip.MustParseAddr(s).String()
}

// claim records addr as used by role and reports whether it was free
// (or already used by the same role).
func (p *planner) claim(addr, role string) bool {
	if r, ok := p.used[addr]; ok {
		return r == role
	}
	p.used[addr] = role
	return true
}

// fresh returns an address no one has used yet, from gen.
func (p *planner) fresh(role string, gen func() string) string {
	for {
		a := gen()
		if _, ok := p.used[a]; !ok {
			p.used[a] = role
			return a
		}
	}
}

func (p *planner) inNet(n [2]byte) string {
	return v4(n[0], n[1], byte(p.intIn(0, 255)), byte(p.intIn(1, 254)))
}

// residential returns an address in a random /16 of residential space
// that neither users nor hosting ranges of this day use.
func (p *planner) residential() string {
	for {
		n := [2]byte{pick(p.r, residentialFirst), byte(p.r.IntN(256))}
		if !p.avoid[n] {
			return p.inNet(n)
		}
	}
}

func (p *planner) hosting() string {
	if p.chance(0.15) {
		return p.v6(pick(p.r, hostingV6), 3)
	}
	h := pick(p.r, hostingV4)
	return v4(h[0], h[1], h[2], byte(p.intIn(2, 254)))
}

// --- users and devices ---

var (
	firstNames = []string{"anna", "ben", "clara", "david", "emma", "felix", "greta", "hannes", "ida", "jonas", "karla", "lukas", "mia", "noah", "olga", "paul", "quirin", "rosa", "simon", "tina", "ulrich", "vera", "walter", "xenia", "yusuf", "zoe", "alex", "birgit", "carsten", "doris", "erik", "frieda", "georg", "heike", "ingo", "julia", "klaus", "lena", "marco", "nina", "oskar", "petra", "ralf", "sabine", "thomas", "ute", "volker", "wiebke", "jan", "sophie", "max", "laura", "tim", "sarah", "leon", "marie", "finn", "lea", "elias", "hanna"}
	lastNames  = []string{"schmidt", "mueller", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann", "koch", "richter", "klein", "wolf", "schroeder", "neumann", "schwarz", "braun", "zimmermann", "krueger", "hartmann", "lange", "werner", "krause", "lehmann", "koehler", "maier", "herrmann", "walter", "koenig", "mayer", "huber", "kaiser", "fuchs", "peters", "lang", "scholz", "moeller", "weiss", "jung", "hahn", "vogel", "friedrich", "keller", "guenther", "frank", "berger", "winkler", "roth", "beck", "lorenz", "baumann", "franke", "albrecht", "ludwig", "winter", "simon", "kraus", "martin", "schumacher"}
	domains    = []string{"example.org", "example.org", "example.org", "example.org", "example.net", "example.net", "example.com", "shop.example.com"}
	dictNames  = []string{"admin", "info", "test", "postmaster", "webmaster", "support", "sales", "office", "contact", "user", "root", "mail", "noreply", "abuse", "billing", "hr", "marketing", "scanner", "backup", "guest", "test1", "administrator", "kontakt", "service"}
)

func (p *planner) makeUsers() {
	for len(p.users) < p.cfg.Users {
		name := pick(p.r, firstNames) + "." + pick(p.r, lastNames)
		if len(p.names) > len(firstNames)*len(lastNames)/2 {
			name += fmt.Sprint(p.r.IntN(100))
		}
		name += "@" + pick(p.r, domains)
		if p.names[name] {
			continue
		}
		p.names[name] = true
		p.users = append(p.users, &user{name: name, office: -1, own: map[string]bool{}})
	}
	exo := []string{exoFixed[0], exoFixed[1]}
	for len(exo) < 8 {
		exo = append(exo, v4(52, 98, byte(p.intIn(150, 250)), byte(p.intIn(1, 254))))
	}
	var olm, gmail []string
	for range 10 {
		olm = append(olm, v4(52, 125, byte(p.intIn(138, 141)), byte(p.intIn(1, 254))))
	}
	for range 3 {
		gmail = append(gmail, v4(209, 85, 218, byte(p.intIn(1, 254))), v4(66, 249, 84, byte(p.intIn(1, 254))))
	}
	for _, a := range slices.Concat(exo, olm, gmail, []string{"127.0.0.1"}) {
		p.used[a] = "cloud"
	}
	nGmail := 2 + p.r.IntN(3)
	for i, u := range p.users {
		switch x := p.r.Float64(); {
		case i == 0 || x < 0.08:
			u.devices = append(u.devices, &device{kind: devEXO, weight: 2.5, pool: exo, svc: svcIMAP, method: "PLAIN"})
		case x < 0.14:
			u.devices = append(u.devices, &device{kind: devOLM, weight: 2, pool: olm, svc: svcIMAP, method: "LOGIN"})
		case x < 0.24:
			u.devices = append(u.devices, &device{kind: devWebmail, weight: 0.7, pool: []string{"127.0.0.1"}, svc: svcIMAP, method: "PLAIN"})
		case nGmail > 0 && x < 0.27:
			nGmail--
			u.devices = append(u.devices, &device{kind: devGmail, weight: 0.8, pool: gmail, svc: svcPOP3, method: "PLAIN"})
		}
		if p.chance(0.88) {
			p.addHome(u)
		}
		if p.chance(0.85) || len(u.devices) == 0 {
			p.addPhone(u, 0)
		}
	}
}

func (p *planner) addHome(u *user) {
	n := pick(p.r, homeNets)
	a := p.fresh("user", func() string { return p.inNet(n) })
	dv := &device{kind: devHome, weight: 0.8, spans: []span{{0, a}}, svc: svcIMAP, method: "PLAIN"}
	if p.chance(0.12) {
		dv.svc = svcPOP3
	}
	if p.chance(0.15) { // the ISP hands out a new address once
		ip := netip.MustParseAddr(a).As4()
		b := p.fresh("user", func() string {
			if p.chance(0.5) {
				return v4(ip[0], ip[1], ip[2], byte(p.intIn(1, 254)))
			}
			return p.inNet(n)
		})
		dv.spans = append(dv.spans, span{p.between(2*hour, p.dur-2*hour), b})
	}
	u.devices = append(u.devices, dv)
}

// addPhone adds a phone whose first address is used from `from` on; it
// returns it.
func (p *planner) addPhone(u *user, from int64) *device {
	dv := &device{kind: devPhone, weight: 1, svc: svcIMAP, method: "PLAIN"}
	if p.chance(0.3) {
		dv.method = "LOGIN"
	}
	changes := p.intIn(3, 8)
	times := []int64{from}
	for range changes {
		times = append(times, p.between(from, p.dur))
	}
	slices.Sort(times[1:])
	if p.chance(0.3) {
		base := pick(p.r, mobileV6)
		p48 := fmt.Sprintf("%s:%x", base, p.r.IntN(0xffff)+1)
		for _, t := range times {
			dv.spans = append(dv.spans, span{t, p.fresh("user", func() string { return p.v6(p48, 3) })})
		}
	} else {
		n := pick(p.r, mobileNets)
		for _, t := range times {
			// Carrier-grade NAT: another subscriber may have had it.
			a := p.inNet(n)
			p.claim(a, "user")
			dv.spans = append(dv.spans, span{t, a})
		}
	}
	u.devices = append(u.devices, dv)
	return dv
}

func (dv *device) addrAt(p *planner, at int64) string {
	if dv.pool != nil {
		return pick(p.r, dv.pool)
	}
	a := dv.spans[0].addr
	for _, s := range dv.spans {
		if s.from <= at {
			a = s.addr
		}
	}
	return a
}

func (p *planner) makeOffices() {
	n := min(6, max(4, p.cfg.Users/40))
	free := slices.Clone(p.users)
	p.r.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	for i := range n {
		size := p.intIn(12, 36)
		size = min(size, max(12, len(free)-12*(n-1-i)))
		if len(free) < size {
			break
		}
		net := businessNets[i%len(businessNets)]
		addr := p.fresh("user", func() string { return p.inNet(net) })
		off := TruthOffice{Addr: addr}
		for _, u := range free[:size] {
			u.office = len(p.truth.Offices)
			u.devices = append(u.devices, &device{kind: devOffice, weight: 1.5, spans: []span{{0, addr}}, svc: svcIMAP, method: "PLAIN"})
			off.Users = append(off.Users, u.name)
		}
		free = free[size:]
		slices.Sort(off.Users)
		p.truth.Offices = append(p.truth.Offices, off)
	}
}

// activity is how likely a device of kind k is in use at offset at (0..1).
func (p *planner) activity(k devKind, at int64) float64 {
	t := p.cfg.Start.Add(time.Duration(at))
	h := float64(t.Hour()) + float64(t.Minute())/60
	workday := t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
	switch k {
	case devPhone:
		if h >= 7 && h < 23 {
			return 1
		}
		return 0.2
	case devHome:
		if h >= 6 && h < 9 || h >= 17 {
			return 1
		}
		return 0.15
	case devOffice:
		if workday && h >= 8 && h < 18 {
			return 1
		}
		return 0
	case devWebmail:
		if h >= 8 && h < 22 {
			return 1
		}
		return 0.1
	}
	return 1 // cloud services poll around the clock
}

// calibrate sets λ so that the legitimate logins take about 6 % of the
// lines (at least 15 per user).
func (p *planner) calibrate() {
	var mean [nDevKinds]float64
	steps := int64(0)
	for at := int64(0); at < p.dur; at += 5 * minute {
		for k := range nDevKinds {
			mean[k] += p.activity(k, at)
		}
		steps++
	}
	total := 0.0
	for _, u := range p.users {
		for _, dv := range u.devices {
			total += dv.weight * mean[dv.kind] / float64(steps) * float64(p.dur)
		}
	}
	budget := max(0.06*float64(p.cfg.Lines), 15*float64(p.cfg.Users))
	p.lambda = budget / total
}

func (p *planner) add(r rec) {
	if r.at < 0 || r.at >= p.dur {
		return
	}
	r.seq = int32(len(p.recs))
	p.recs = append(p.recs, r)
}

func (p *planner) nextPid() int32 {
	p.pid += int32(1 + p.r.IntN(40))
	if p.pid > 99000 {
		p.pid = 11000
	}
	return p.pid
}

// own notes that u's own device used addr (or an intermediary).
func (p *planner) own(u *user, dv *device, addr string) {
	if dv.pool != nil {
		p.inter[addr] = true
		return
	}
	u.own[addr] = true
}

// login plans a successful Dovecot login.
func (p *planner) login(u *user, dv *device, at int64, addr string) {
	if at < 0 || at >= p.dur {
		return
	}
	p.own(u, dv, addr)
	p.add(rec{at: at, op: opLogin, svc: dv.svc, method: dv.method, user: u.name, addr: addr})
}

// legit plans a device's logins over the day.
func (p *planner) legit(u *user, dv *device) {
	rate := p.lambda * dv.weight * math.Exp(p.r.NormFloat64()*0.4) // per ns
	if rate <= 0 {
		return
	}
	n := 0
	for at := p.between(0, int64(1/rate)); at < p.dur; at += max(30*second, int64(p.r.ExpFloat64()/rate)) {
		if !p.chance(p.activity(dv.kind, at)) {
			continue
		}
		addr := dv.addrAt(p, at)
		if dv.stale && at >= dv.failFrom && at < dv.failTo {
			continue // the stale failures are planned separately
		}
		p.login(u, dv, at, addr)
		n++
	}
	// Every device is used at least once.
	for try := 0; n == 0 && try < 500; try++ {
		at := p.between(0, p.dur)
		if p.activity(dv.kind, at) == 1 && !(dv.stale && at >= dv.failFrom && at < dv.failTo) {
			p.login(u, dv, at, dv.addrAt(p, at))
			n++
		}
	}
}

// submissions plans a few Postfix submissions per user and day.
func (p *planner) submissions() {
	days := float64(p.dur) / float64(24*hour)
	for _, u := range p.users {
		n := int(float64(p.r.IntN(5)) * days)
		for range n {
			for try := 0; try < 20; try++ {
				at := p.between(0, p.dur)
				dv := pick(p.r, u.devices)
				if dv.kind == devGmail || dv.kind == devOLM || !p.chance(p.activity(dv.kind, at)) ||
					dv.stale && at >= dv.failFrom && at < dv.failTo {
					continue
				}
				p.submit(u, dv, at, dv.addrAt(p, at), "PLAIN")
				break
			}
		}
	}
}

// submit plans one authenticated Postfix submission session.
func (p *planner) submit(u *user, dv *device, at int64, addr, method string) {
	if at < 0 || at >= p.dur {
		return
	}
	if dv != nil {
		p.own(u, dv, addr)
	}
	svc := svcSubmission
	if p.chance(0.2) {
		svc = svcSMTPS
	}
	pid := p.nextPid()
	p.add(rec{at: at - p.between(second, 4*second), op: opConnect, svc: svc, pid: pid, addr: addr})
	p.add(rec{at: at, op: opSASLOK, svc: svc, pid: pid, method: method, user: u.name, addr: addr})
	p.add(rec{at: at + p.between(second, 6*second), op: opDisconnect, svc: svc, pid: pid, n: 1, addr: addr})
}

// named says whether a Postfix SASL failure line shows the user.
func (p *planner) named() bool { return p.chance(0.25) }

// dovecotFail plans a failed Dovecot login (n attempts), sometimes with
// an auth-worker detail line just before it.
func (p *planner) dovecotFail(at int64, svc uint8, method, name, addr string, n int, detail float64) {
	if p.chance(detail) {
		p.add(rec{at: at - p.between(0, 2*second), op: opAuthDetail, user: name, addr: addr, known: p.names[name]})
	}
	p.add(rec{at: at, op: opLoginFail, svc: svc, n: uint8(n), method: method, user: name, addr: addr})
}

// saslFail plans a failed Postfix SASL authentication, sometimes with the
// session's connect and disconnect lines; it reports whether the line
// names the user.
func (p *planner) saslFail(at int64, svc uint8, method, name, addr string, companions float64) bool {
	pid := p.nextPid()
	named := p.named()
	with := p.chance(companions)
	if with {
		p.add(rec{at: at - p.between(second, 3*second), op: opConnect, svc: svc, pid: pid, addr: addr})
	}
	p.add(rec{at: at, op: opSASLFail, svc: svc, pid: pid, method: method, user: name, addr: addr, named: named})
	if with {
		p.add(rec{at: at + p.between(second, 3*second), op: opDisconnect, svc: svc, pid: pid, addr: addr})
	}
	return named
}

// workTime returns a random offset within working hours, or -1.
func (p *planner) workTime() int64 {
	for range 200 {
		at := p.between(0, p.dur-5*minute)
		if p.activity(devOffice, at) == 1 && p.activity(devOffice, at+5*minute) == 1 {
			return at
		}
	}
	return -1
}

// typos plans office users' mistyped passwords, fixed within a minute or two.
func (p *planner) typos() {
	for _, off := range p.truth.Offices {
		for range p.intIn(4, 9) {
			at := p.workTime()
			if at < 0 {
				return
			}
			u := p.userByName(pick(p.r, off.Users))
			dv := u.officeDevice()
			fix := at + p.between(20*second, 2*minute)
			if p.chance(0.7) {
				p.dovecotFail(at, svcIMAP, "PLAIN", u.name, off.Addr, 1, 0.5)
				p.login(u, dv, fix, off.Addr)
			} else {
				p.saslFail(at, svcSubmission, "PLAIN", u.name, off.Addr, 0.5)
				p.submit(u, dv, fix, off.Addr, "PLAIN")
			}
		}
	}
}

func (u *user) officeDevice() *device {
	for _, dv := range u.devices {
		if dv.kind == devOffice {
			return dv
		}
	}
	return nil
}

func (p *planner) userByName(name string) *user {
	for _, u := range p.users {
		if u.name == name {
			return u
		}
	}
	return nil
}

// planStale picks 5–10 users whose phone or home device keeps an old
// password after the user changed it.
func (p *planner) planStale() {
	want := p.intIn(5, 10)
	for _, i := range p.r.Perm(len(p.users)) {
		if want == 0 {
			break
		}
		u := p.users[i]
		var cands []*device
		for _, dv := range u.devices {
			if dv.kind == devHome || dv.kind == devPhone {
				cands = append(cands, dv)
			}
		}
		if len(cands) == 0 || len(u.devices) < 2 {
			continue
		}
		dv := pick(p.r, cands)
		var other *device
		for _, o := range u.devices {
			if o != dv && o.kind != devGmail {
				other = o
			}
		}
		if other == nil {
			continue
		}
		want--
		u.busy = true
		dv.stale = true
		dv.failFrom = -1 // changed before the log starts
		if p.chance(0.6) {
			dv.failFrom = p.between(2*hour, p.dur-10*hour)
		}
		dv.failTo = p.dur
		if p.chance(0.3) { // fixed later on
			dv.failTo = max(dv.failFrom, 0) + p.between(4*hour, 9*hour)
		}
		// The user changed the password on another device, which then
		// works; the stale one fails every 5–30 minutes.
		start := max(dv.failFrom, 0)
		p.login(u, other, start+p.between(0, 10*minute), other.addrAt(p, start))
		fails := map[string]int{}
		for at := start + p.between(minute, 10*minute); at < dv.failTo && at < p.dur; at += p.between(5*minute, 30*minute) {
			addr := dv.addrAt(p, at)
			u.own[addr] = true
			if p.chance(0.85) {
				p.dovecotFail(at, dv.svc, dv.method, u.name, addr, 1, 0.3)
			} else {
				p.saslFail(at, svcSubmission, "PLAIN", u.name, addr, 0.3)
			}
			fails[addr]++
		}
		for _, a := range sortedKeys(fails) {
			p.truth.StaleDevices = append(p.truth.StaleDevices, TruthStale{User: u.name, Addr: a, Failures: fails[a]})
		}
	}
}

// planNewPhone gives 2–3 users a new phone that first tries the old
// password.
func (p *planner) planNewPhone() {
	want := p.intIn(2, 3)
	for _, i := range p.r.Perm(len(p.users)) {
		if want == 0 {
			break
		}
		u := p.users[i]
		if u.busy {
			continue
		}
		want--
		u.busy = true
		tn := p.between(3*hour, p.dur-6*hour)
		n := pick(p.r, mobileNets)
		addr := p.fresh("user", func() string { return p.inNet(n) })
		dv := &device{kind: devPhone, weight: 1, spans: []span{{0, addr}}, svc: svcIMAP, method: "PLAIN"}
		fails := p.intIn(3, 8)
		at := tn
		for i := range fails {
			if i > 0 {
				at += p.between(30*second, 4*minute)
			}
			p.dovecotFail(at, svcIMAP, "PLAIN", u.name, addr, 1, 0.3)
		}
		ok := at + p.between(minute, 10*minute)
		p.login(u, dv, ok, addr)
		for t := ok + p.between(5*minute, 30*minute); t < p.dur; t += p.between(10*minute, 60*minute) {
			if p.chance(p.activity(devPhone, t)) {
				p.login(u, dv, t, addr)
			}
		}
		p.truth.NewPhones = append(p.truth.NewPhones, TruthNewPhone{User: u.name, Addr: addr, Failures: fails, Success: p.time(ok)})
	}
}

// time returns the time of offset at as its line's stamp shows it (whole
// seconds).
func (p *planner) time(at int64) time.Time {
	return p.cfg.Start.Add(time.Duration(at - at%second))
}

func (p *planner) attacker(addr, kind, campaign string) *TruthAttacker {
	a := p.atk[addr]
	if a == nil {
		a = &TruthAttacker{Addr: addr, Kind: kind, Campaign: campaign}
		p.atk[addr] = a
	}
	return a
}

// guess returns a brute-force user name: dictionary names with and
// without a domain, real local parts and real addresses.
func (p *planner) guess() string {
	switch x := p.r.Float64(); {
	case x < 0.4:
		return pick(p.r, dictNames)
	case x < 0.6:
		return pick(p.r, dictNames) + "@" + pick(p.r, domains)
	case x < 0.8:
		n := pick(p.r, p.users).name
		return n[:strings.IndexByte(n, '@')]
	}
	return pick(p.r, p.users).name
}

func (p *planner) smtpdSvc() uint8 {
	switch x := p.r.Float64(); {
	case x < 0.5:
		return svcSMTP
	case x < 0.8:
		return svcSubmission
	}
	return svcSMTPS
}

// bruteForce plans 40+ hosting sources bursting 20–300 attempts.
func (p *planner) bruteForce() {
	n := 40 + p.r.IntN(16)
	for range n {
		addr := p.fresh("attacker", p.hosting)
		a := p.attacker(addr, "brute-force", "")
		mode := p.r.Float64() // < .4 Dovecot only, < .75 Postfix only, else both
		dsvc := svcIMAP
		if p.chance(0.3) {
			dsvc = svcPOP3
		}
		psvc := p.smtpdSvc()
		bursts := 1
		if p.chance(0.3) {
			bursts = p.intIn(2, 3)
		}
		for range bursts {
			u := p.r.Float64()
			attempts := 20 + int(280*u*u*u)
			at := p.between(0, p.dur-time.Hour.Nanoseconds())
			for left := attempts; left > 0; {
				at += p.between(500*int64(time.Millisecond), 8*second)
				if mode < 0.4 || mode >= 0.75 && p.chance(0.5) {
					k := min(left, [...]int{1, 1, 1, 2, 3}[p.r.IntN(5)])
					p.dovecotFail(at, dsvc, pick(p.r, []string{"PLAIN", "LOGIN"}), p.guess(), addr, k, 0.3)
					left -= k
					a.Attempts += k
				} else {
					p.saslFail(at, psvc, pick(p.r, []string{"LOGIN", "LOGIN", "PLAIN"}), p.guess(), addr, 0.15)
					left--
					a.Attempts++
				}
			}
		}
	}
}

// sprays plans 3–5 hosting sources that try many real accounts once each,
// one every 20–90 seconds.
func (p *planner) sprays() {
	for range p.intIn(3, 5) {
		addr := p.fresh("attacker", p.hosting)
		a := p.attacker(addr, "spray", "")
		at := p.between(0, p.dur-4*hour)
		svc := p.smtpdSvc()
		for _, i := range p.r.Perm(len(p.users))[:p.intIn(30, min(120, len(p.users)))] {
			at += p.between(20*second, 90*second)
			name := p.users[i].name
			if p.chance(0.5) {
				p.saslFail(at, svc, "LOGIN", name, addr, 0.2)
			} else {
				p.dovecotFail(at, svcIMAP, "PLAIN", name, addr, 1, 0.3)
			}
			a.Attempts++
		}
	}
}

type attempt struct {
	at   int64
	addr string
	name string
}

// campaigns plans 2–3 distributed sprays; the first ends in a compromise.
func (p *planner) campaigns() {
	nc := p.intIn(2, 3)
	fakes := []string{"info@example.org", "office@example.org", "sales@example.net", "kontakt@example.com", "j.doe@example.org", "buchhaltung@example.org"}
	for ci := range nc {
		id := fmt.Sprintf("campaign-%d", ci+1)
		cs := p.between(hour, p.dur-6*hour)
		ce := cs + p.between(2*hour, 5*hour)
		nAddr := p.intIn(20, 70)
		pool := make([]string, 0, len(p.users)+len(fakes))
		for _, u := range p.users {
			pool = append(pool, u.name)
		}
		pool = append(pool, fakes...)
		p.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		// Each address takes the next k accounts of the shuffled list, so
		// each account is tried about once in the campaign.
		var tries []attempt
		next := 0
		camp := TruthCampaign{ID: id}
		targets := map[string]bool{}
		for range nAddr {
			addr := p.fresh("attacker", p.residential)
			camp.Addrs = append(camp.Addrs, addr)
			p.attacker(addr, "campaign", id)
			u := p.r.Float64()
			k := 1 + int(17*u*u) // 1–18 distinct accounts (k < len(pool))
			gap := (ce - cs) / int64(k+1)
			at := cs + p.between(0, max(minute, (ce-cs)-int64(k-1)*min(gap, 25*minute)))
			for j := range k {
				if j > 0 {
					at += p.between(3*minute, max(4*minute, min(gap, 25*minute)))
				}
				if at >= ce {
					at = ce - p.between(0, 10*minute)
				}
				name := pool[next%len(pool)]
				next++
				targets[name] = true
				tries = append(tries, attempt{at, addr, name})
			}
		}
		slices.SortStableFunc(tries, func(a, b attempt) int { return cmp.Compare(a.at, b.at) })
		win := -1
		if ci == 0 {
			// A real user's password works, late in the campaign.
			per := map[string]int{}
			for _, t := range tries {
				per[t.addr]++
			}
			for i := len(tries) * 6 / 10; i < len(tries); i++ {
				if p.names[tries[i].name] && !p.userByName(tries[i].name).busy && per[tries[i].addr] > 1 {
					win = i
					break
				}
			}
		}
		for i, t := range tries {
			if i == win {
				p.compromise(t, id)
				continue
			}
			a := p.atk[t.addr]
			a.Attempts++
			if p.chance(0.65) {
				if !p.saslFail(t.at, p.smtpdSvc(), pick(p.r, []string{"LOGIN", "PLAIN"}), t.name, t.addr, 0.3) {
					camp.Unnamed++
				}
			} else {
				p.dovecotFail(t.at, svcIMAP, pick(p.r, []string{"LOGIN", "PLAIN"}), t.name, t.addr, 1, 0.3)
			}
		}
		camp.First, camp.Last = p.time(tries[0].at), p.time(tries[len(tries)-1].at)
		camp.Targets = len(targets)
		slices.Sort(camp.Addrs)
		p.truth.Campaigns = append(p.truth.Campaigns, camp)
	}
}

// compromise plans an attacker's successful login, then mail sent as the
// user and more logins.
func (p *planner) compromise(t attempt, id string) {
	u := p.userByName(t.name)
	u.busy = true
	p.add(rec{at: t.at, op: opLogin, svc: svcIMAP, method: "PLAIN", user: u.name, addr: t.addr})
	a := p.atk[t.addr]
	a.Succeeded = append(a.Succeeded, u.name)
	s := t.at + p.between(2*minute, 30*minute)
	for range p.intIn(1, 3) {
		p.submit(u, nil, s, t.addr, "LOGIN")
		s += p.between(30*second, 10*minute)
	}
	l := t.at
	for range p.intIn(3, 8) {
		l += p.between(10*minute, 90*minute)
		p.add(rec{at: l, op: opLogin, svc: svcIMAP, method: "PLAIN", user: u.name, addr: t.addr})
	}
	p.truth.Compromises = append(p.truth.Compromises, TruthCompromise{User: u.name, Addr: t.addr, Success: p.time(t.at), Submission: true, Campaign: id})
}

// slow plans 2–3 low-and-slow sources: one or two real accounts every
// 20–60 minutes all day.
func (p *planner) slow() {
	for range p.intIn(2, 3) {
		addr := p.fresh("attacker", p.residential)
		a := p.attacker(addr, "slow", "")
		targets := []string{pick(p.r, p.users).name}
		if p.chance(0.5) {
			targets = append(targets, pick(p.r, p.users).name)
		}
		for at := p.between(0, hour); at < p.dur; at += p.between(20*minute, 60*minute) {
			name := pick(p.r, targets)
			if p.chance(0.75) {
				p.dovecotFail(at, svcIMAP, "PLAIN", name, addr, 1, 0.3)
			} else {
				p.saslFail(at, svcSubmission, "LOGIN", name, addr, 0.3)
			}
			a.Attempts++
		}
	}
}

// cloudSpray plans 30 accounts failing through one Exchange Online address
// that legitimate users use too, then one success.
func (p *planner) cloudSpray() {
	var used []string
	for _, a := range sortedKeys(p.inter) {
		if strings.HasPrefix(a, "52.98.") {
			used = append(used, a)
		}
	}
	if len(used) == 0 {
		used = exoFixed[:1]
	}
	addr := pick(p.r, used)
	a := p.attacker(addr, "cloud-spray", "")
	var cands []*user
	for _, u := range p.users {
		if !u.busy && !u.hasKind(devEXO) {
			cands = append(cands, u)
		}
	}
	p.r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	cands = cands[:min(30, len(cands))]
	start := p.between(2*hour, p.dur-3*hour)
	var at int64
	for _, u := range cands {
		at = start + p.between(0, hour)
		p.dovecotFail(at, svcIMAP, "PLAIN", u.name, addr, 1, 0.3)
		a.Attempts++
	}
	v := pick(p.r, cands)
	v.busy = true
	ok := start + hour + p.between(5*minute, 40*minute)
	p.add(rec{at: ok, op: opLogin, svc: svcIMAP, method: "PLAIN", user: v.name, addr: addr})
	a.Succeeded = append(a.Succeeded, v.name)
	p.truth.Compromises = append(p.truth.Compromises, TruthCompromise{User: v.name, Addr: addr, Success: p.time(ok), Campaign: "cloud"})
}

func (u *user) hasKind(k devKind) bool {
	for _, dv := range u.devices {
		if dv.kind == k {
			return true
		}
	}
	return false
}

// scanners plans connections that never authenticate.
func (p *planner) scanners() {
	for range 150 + p.r.IntN(150) {
		gen := p.residential
		if p.chance(0.3) {
			gen = p.hosting
		}
		addr := p.fresh("scanner", gen)
		at := p.between(0, p.dur)
		for range p.intIn(1, 3) {
			at += p.between(second, 20*minute)
			if p.chance(0.6) {
				p.add(rec{at: at, op: opNoAuth, svc: [...]uint8{svcIMAP, svcIMAP, svcPOP3}[p.r.IntN(3)], addr: addr})
			} else {
				pid := p.nextPid()
				p.add(rec{at: at, op: opConnect, svc: svcSMTP, pid: pid, addr: addr})
				p.add(rec{at: at + p.between(0, 5*second), op: opLost, svc: svcSMTP, pid: pid, addr: addr})
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// finish sorts the plan and completes the truth.
func (p *planner) finish() *day {
	slices.SortFunc(p.recs, func(a, b rec) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	t := p.truth
	names := make([]string, len(p.users))
	for i, u := range p.users {
		names[i] = u.name
		t.Users = append(t.Users, TruthUser{Name: u.name, Own: sortedKeys(u.own)})
	}
	slices.SortFunc(t.Users, func(a, b TruthUser) int { return cmp.Compare(a.Name, b.Name) })
	for _, k := range sortedKeys(p.atk) {
		a := *p.atk[k]
		if a.Succeeded == nil {
			a.Succeeded = []string{}
		}
		t.Attackers = append(t.Attackers, a)
	}
	t.Intermediaries = sortedKeys(p.inter)
	for _, s := range []*[]string{&t.Intermediaries} {
		if *s == nil {
			*s = []string{}
		}
	}
	if t.StaleDevices == nil {
		t.StaleDevices = []TruthStale{}
	}
	if t.NewPhones == nil {
		t.NewPhones = []TruthNewPhone{}
	}
	return &day{cfg: p.cfg, recs: p.recs, names: names, truth: t}
}
