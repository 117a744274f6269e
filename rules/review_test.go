package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// azure is Microsoft's hosting space: anyone can rent a VM there.
var azure = ipranges.Origin{Class: ipranges.Hosting, Provider: "microsoft", Product: "Azure (customer VM or first-party service)", Confidence: ipranges.Medium, ASN: 8075, Country: "NL"}

// TestAdversarial pins the findings of attacks that tried to slip under
// the rules, and of admin situations that must stay quiet. Each case
// failed before the fix its name describes.
func TestAdversarial(t *testing.T) {
	var b builder
	tests := []ruleCase{
		// User names are compared as Dovecot looks them up: lower case,
		// no surrounding space.
		{name: "a known user logging in as ALICE from a new network is no first login",
			steps: cat(b.ok("ALICE ", "198.51.100.1", 0, devFR)),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"new-device medium alice 198.51.100.1 n=1"}},
		{name: "case variants of one victim from ten addresses are a distributed attack",
			steps: func() []step {
				var s []step
				for i, u := range []string{"bob", "Bob", "BOB", "bob ", " bob", "bOb", "boB", "BOb", "bOB", "Bob "} {
					s = append(s, b.fail(u, fmt.Sprintf("192.0.2.%d", i+1), time.Duration(i)*time.Minute))
				}
				return s
			}(),
			want: []string{"distributed-attack high bob [192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7 192.0.2.8 192.0.2.9 192.0.2.10] n=10"}},
		{name: "case variants of one user are not five users (no spray)",
			steps: cat(b.fail("alice", "198.51.100.9", 0), b.fail("Alice", "198.51.100.9", time.Minute),
				b.fail("ALICE", "198.51.100.9", 2*time.Minute), b.fail("alice ", "198.51.100.9", 3*time.Minute),
				b.fail("aLiCe", "198.51.100.9", 4*time.Minute))},
		{name: "invalid UTF-8 names stay distinct",
			steps: cat(b.fail("\xff1", "198.51.100.9", 0), b.fail("\xfe1", "198.51.100.9", time.Minute),
				b.fail("\xfd1", "198.51.100.9", 2*time.Minute), b.fail("\xfc1", "198.51.100.9", 3*time.Minute),
				b.fail("\xfb1", "198.51.100.9", 4*time.Minute)),
			want: []string{"password-spray medium - 198.51.100.9 n=5"}},
		// IPv6: one client owns a /64.
		{name: "brute force rotating through one IPv6 /64",
			steps: func() []step {
				var s []step
				for i := range 10 {
					s = append(s, b.fail("", fmt.Sprintf("2001:db8:1:2::%x", i+1), time.Duration(i)*time.Second))
				}
				return s
			}(),
			want: []string{"brute-force medium - [2001:db8:1:2::1 2001:db8:1:2::2 2001:db8:1:2::3 2001:db8:1:2::4 2001:db8:1:2::5 2001:db8:1:2::6 2001:db8:1:2::7 2001:db8:1:2::8 2001:db8:1:2::9 2001:db8:1:2::a] n=10"}},
		{name: "password spray rotating through one IPv6 /64",
			steps: func() []step {
				var s []step
				for i := range 5 {
					s = append(s, b.fail(fmt.Sprintf("u%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), time.Duration(i)*time.Minute))
				}
				return s
			}(),
			want: []string{"password-spray medium - [2001:db8:1:2::1 2001:db8:1:2::2 2001:db8:1:2::3 2001:db8:1:2::4 2001:db8:1:2::5] n=5"}},
		{name: "one IPv6 address brute forcing keeps its address",
			steps: b.series(10, "", "2001:db8:1:2::1", 0, time.Second),
			want:  []string{"brute-force medium - 2001:db8:1:2::1 n=10"}},
		{name: "failures from different IPv6 /64s are no brute force but a campaign",
			steps: func() []step {
				var s []step
				for i := range 10 {
					s = append(s, b.fail("", fmt.Sprintf("2001:db8:%x::1", i+1), time.Duration(i)*time.Second))
				}
				return s
			}(),
			want: []string{"spray-campaign high - [2001:db8:1::/64 2001:db8:2::/64 2001:db8:3::/64 2001:db8:4::/64 2001:db8:5::/64 2001:db8:6::/64 2001:db8:7::/64 2001:db8:8::/64 2001:db8:9::/64 2001:db8:a::/64] n=10"}},
		// Cloud intermediaries are shared by all their users.
		{name: "one user's stale Outlook is no compromise of another Outlook user",
			steps: cat(func() []step {
				var s []step
				for i := range 6 {
					s = append(s, b.ev(parse.Failure, "alice", "52.98.1.1", time.Duration(i)*time.Minute, msft))
				}
				return s
			}(), b.ok("bob", "52.98.1.2", 7*time.Minute, msft)),
			want: []string{"cloud-intermediary info bob [52.98.1.2] n=1"}},
		{name: "Outlook users with stale passwords through one Outlook address are no spray",
			steps: func() []step {
				var s []step
				for i := range 12 {
					s = append(s, b.ev(parse.Failure, fmt.Sprintf("u%d", i%6), "52.98.1.1", time.Duration(i)*time.Second, msft))
				}
				return s
			}(),
			opts: func() Options {
				base := NewMemoryBaseline()
				for i := range 6 {
					base.Learn(fmt.Sprintf("u%d", i), Device{FacetProvider, "microsoft"}, t0.Add(-time.Hour))
				}
				return Options{Baseline: base}
			}},
		{name: "six strangers failing through one Outlook address are a spray",
			steps: func() []step {
				var s []step
				for i := range 12 {
					s = append(s, b.ev(parse.Failure, fmt.Sprintf("u%d", i%6), "52.98.1.1", time.Duration(i)*time.Second, msft))
				}
				return s
			}(),
			want: []string{"password-spray medium - 52.98.1.1 n=12"}},
		{name: "the same user failing then succeeding through Outlook still counts",
			steps: cat(func() []step {
				var s []step
				for i := range 5 {
					s = append(s, b.ev(parse.Failure, "bob", "52.98.1.1", time.Duration(i)*time.Minute, msft))
				}
				return s
			}(), b.ok("bob", "52.98.1.1", 7*time.Minute, msft)),
			want: []string{"success-after-failures high bob 52.98.1.1 n=6", "cloud-intermediary info bob [52.98.1.1] n=1"}},
		// Proxies: "secured" from private space is the proxy, from a
		// public address it is the client the proxy forwarded.
		{name: "brute force through a trusted proxy that forwards the client address",
			steps: func() []step {
				s := b.series(10, "alice", "198.51.100.9", 0, time.Second)
				for i := range s {
					s[i].ev.Secured, s[i].ev.TLS = true, parse.TLSNo
				}
				return s
			}(),
			want: []string{"brute-force medium alice 198.51.100.9 n=10"}},
		{name: "a proxy in private space without forwarding stays quiet",
			steps: func() []step {
				var s []step
				for i := range 20 {
					s = append(s, with(b.ev(parse.Failure, fmt.Sprintf("u%d", i), "10.0.0.5", time.Duration(i)*time.Second, private),
						func(e *parse.Event) { e.Secured = true; e.TLS = parse.TLSNo }))
				}
				return s
			}()},
		{name: "a forwarded secured login is no cleartext login",
			steps: cat(with(b.ok("alice", "198.51.100.9", 0, devDE), func(e *parse.Event) { e.Secured = true; e.TLS = parse.TLSNo }))},
		// check must fail on these.
		{name: "a successful login without a user name is still not allowlisted",
			steps: cat(b.ok("", "198.51.100.1", 0, devDE)),
			opts:  func() Options { return Options{Allow: NewAllowlist(t, "203.0.113.0/24\n")} },
			want:  []string{"not-allowlisted high - 198.51.100.1 n=1"}},
		{name: "a login refused by the connection limit had the right password",
			steps: cat(with(b.ev(parse.Aborted, "alice", "198.51.100.1", 0, devDE), func(e *parse.Event) { e.Refused = true })),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false },
			opts:  func() Options { return Options{Allow: NewAllowlist(t, "203.0.113.0/24\n")} },
			want:  []string{"not-allowlisted high alice 198.51.100.1 n=1"}},
		{name: "provider:microsoft does not allow an Azure VM",
			steps: cat(b.ok("bob", "20.50.1.1", 0, azure), b.ok("bob", "52.98.1.1", time.Minute, msft)),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false },
			opts:  func() Options { return Options{Allow: NewAllowlist(t, "provider:microsoft bob\n")} },
			want:  []string{"not-allowlisted high bob 20.50.1.1 n=1"}},
		{name: "allowlist user entries match any case and space of the logged name",
			steps: cat(b.ok("Bob ", "203.0.113.9", 0, devDE)),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false },
			opts:  func() Options { return Options{Allow: NewAllowlist(t, "BOB 203.0.113.0/24\n")} }},
	}
	runScenarios(t, tests)
}

func TestCanonicalUser(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.org", "alice@example.org"},
		{" Alice@Example.ORG\t", "alice@example.org"},
		{"ÄLICE", "älice"},
		{"\xffA B\xfe", "\xffa b\xfe"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := CanonicalUser(tt.in); got != tt.want {
				t.Errorf("CanonicalUser(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestFindingsCapped floods the engine with attackers, each opening its
// own finding: memory stays bounded by MaxFindings per rule, and the
// findings past the cap still exist, as one overflow finding per rule
// with the rule's name and severity (so check still fails on them).
func TestFindingsCapped(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFindings = 50
	cfg.StaleCredentials.Enabled = false
	e := NewEngine(cfg, Options{Allow: NewAllowlist(t, "203.0.113.0/24\n")})
	const attackers = 2000
	line := 0
	for i := range attackers {
		ip := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		for j := range 10 {
			line++
			e.Observe(parse.Event{Time: t0.Add(time.Duration(i*10+j) * time.Millisecond), Kind: parse.KindLogin,
				Result: parse.Failure, Addr: ip, File: "mail.log", Line: line}, devDE)
		}
		// …and a login of a distinct user name from outside the allowlist.
		line++
		e.Observe(parse.Event{Time: t0.Add(time.Duration(i*10+9) * time.Millisecond), Kind: parse.KindLogin,
			Result: parse.Success, User: fmt.Sprintf("user%d", i), HasUser: true, Addr: ip, File: "mail.log", Line: line}, devDE)
	}
	if n := len(e.findings); n > 10*(cfg.MaxFindings+1) {
		t.Errorf("%d findings kept, want at most %d", n, 10*(cfg.MaxFindings+1))
	}
	perRule := map[string][]Finding{}
	for _, f := range e.Flush() {
		perRule[f.Rule] = append(perRule[f.Rule], f)
	}
	for _, rule := range []string{RuleBruteForce, RuleNotAllowlisted} {
		fs := perRule[rule]
		if len(fs) != cfg.MaxFindings+1 {
			t.Errorf("%s: %d findings, want %d and one overflow", rule, len(fs), cfg.MaxFindings)
			continue
		}
		var over *Finding
		for i := range fs {
			if fs[i].RemoteIP == "" {
				over = &fs[i]
			}
		}
		if over == nil || over.HasUser || over.Severity != map[string]Severity{RuleBruteForce: cfg.BruteForce.Severity, RuleNotAllowlisted: cfg.NotAllowlisted.Severity}[rule] || over.Count < attackers-cfg.MaxFindings ||
			!strings.Contains(over.Message, "max_findings") || len(over.Evidence) == 0 {
			t.Errorf("%s: overflow finding %+v", rule, over)
		}
		if !DefaultThreshold().Matches(*over) && rule == RuleNotAllowlisted {
			t.Errorf("the default threshold does not match the overflow")
		}
	}
	// A kept finding still aggregates its own later events.
	ip := netip.AddrFrom4([4]byte{10, 1, 0, 0})
	e.Observe(parse.Event{Time: t0.Add(time.Minute), Kind: parse.KindLogin, Result: parse.Failure, Addr: ip, File: "mail.log", Line: line + 1}, devDE)
	for _, f := range e.Flush() {
		if f.Rule == RuleBruteForce && f.RemoteIP == ip.String() && f.Count != 11 {
			t.Errorf("kept finding did not aggregate: %+v", f)
		}
	}
}

// TestReorder reads a journald export after a log file that ends later:
// the engine alone sees the export's brute force late and misses it; a
// Reorder gives it the events in time order.
func TestReorder(t *testing.T) {
	var b builder
	fileA := cat(b.ok("alice", "203.0.113.7", 2*time.Hour, devDE), b.ok("bob", "203.0.113.8", 3*time.Hour, devDE))
	journal := b.series(12, "carol", "198.51.100.9", 0, 5*time.Second)
	for i := range journal {
		journal[i].ev.File = "journal"
	}
	steps := cat(fileA, journal)

	cfg := DefaultConfig()
	cfg.BruteForce.SlowFailures = 1000 // the late burst would still be slow guessing
	_, direct := run(cfg, Options{}, steps)
	// Attribution holds failures back, and attack windows slide on each
	// failure's own time, so the engine alone copes with this much
	// disorder too; the Reorder must not change the verdict.
	for _, capacity := range []int{len(steps), 1000} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			r := NewReorder(NewEngine(cfg, Options{}), capacity)
			var observed []Finding
			for _, s := range steps {
				observed = append(observed, r.Observe(s.ev, s.o)...)
			}
			if r.Len() != len(steps) {
				t.Errorf("Len = %d, want %d", r.Len(), len(steps))
			}
			observed = append(observed, r.Drain()...)
			all := r.Flush()
			var got []string
			for _, f := range all {
				got = append(got, summary(f))
			}
			want := []string{"brute-force medium carol 198.51.100.9 n=12"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") || len(observed) != len(all) {
				t.Errorf("findings %q (observed %d), want %q", got, len(observed), want)
			}
			if len(all) > 0 && all[0].Evidence[0] != "journal:3" {
				t.Errorf("evidence %v does not point into the journal", all[0].Evidence)
			}
		})
	}
	// A capacity of one is the engine alone.
	r := NewReorder(NewEngine(cfg, Options{}), 1)
	for _, s := range steps {
		r.Observe(s.ev, s.o)
	}
	if fs := r.Flush(); len(fs) != len(direct) {
		t.Errorf("capacity 1: %d findings, engine alone %d", len(fs), len(direct))
	}
}

// BenchmarkReorder measures the cost of the buffer over the engine alone
// on the attack-heavy stream of BenchmarkObserve, shuffled in blocks.
func BenchmarkReorder(b *testing.B) {
	var evs []parse.Event
	for i := range 100000 {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(i % 4), byte(i % 251)})
		res := parse.Failure
		if i%4 == 0 {
			res = parse.Success
		}
		// Two interleaved "files" of 50000 events, the second earlier.
		at := time.Duration(i%50000) * time.Second
		if i >= 50000 {
			at -= 10 * time.Hour
		}
		evs = append(evs, parse.Event{Time: t0.Add(at), Kind: parse.KindLogin, Result: res,
			User: fmt.Sprintf("user%d", i%500), HasUser: true, Addr: ip, TLS: parse.TLSYes, File: "mail.log", Line: i + 1})
	}
	b.ReportAllocs()
	for b.Loop() {
		r := NewReorder(NewEngine(DefaultConfig(), Options{}), DefaultReorderCapacity)
		for _, ev := range evs {
			r.Observe(ev, devDE)
		}
		r.Flush()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestEventHeap pops random events in (time, arrival) order.
func TestEventHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 3, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var h eventHeap
			for i := range n {
				h.push(heldEvent{t: t0.Add(time.Duration(r.IntN(20)) * time.Second), seq: i})
			}
			var prev heldEvent
			for i := range n {
				x := h.pop()
				if i > 0 && (x.t.Before(prev.t) || x.t.Equal(prev.t) && x.seq < prev.seq) {
					t.Fatalf("pop %d: %v/%d after %v/%d", i, x.t, x.seq, prev.t, prev.seq)
				}
				prev = x
			}
			if h.Len() != 0 {
				t.Errorf("%d left", h.Len())
			}
		})
	}
}

// TestStatesCapped floods the engine with distinct names and addresses
// within one window: window state stops growing at maxStates per kind,
// the subjects tracked before the flood are still counted, and nothing
// panics.
func TestStatesCapped(t *testing.T) {
	e := NewEngine(DefaultConfig(), Options{})
	e.maxStates = 100
	fail := func(i int, user string, ip netip.Addr) {
		e.Observe(parse.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Kind: parse.KindLogin,
			Result: parse.Failure, User: user, HasUser: true, Addr: ip, File: "mail.log", Line: i + 1}, devFR)
	}
	victim := netip.MustParseAddr("198.51.100.9")
	fail(0, "alice", victim)
	for i := range 5000 {
		fail(i+1, fmt.Sprintf("user%d", i), netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	for _, n := range []int{len(e.pairs), len(e.users)} {
		if n > e.maxStates {
			t.Errorf("states %d/%d, cap %d", len(e.pairs), len(e.users), e.maxStates)
			break
		}
	}
	for i := range 9 {
		fail(5001+i, "alice", victim)
	}
	var got []string
	for _, f := range e.Flush() {
		got = append(got, summary(f))
	}
	if want := "brute-force medium alice 198.51.100.9 n=10"; !slices.Contains(got, want) {
		t.Errorf("findings %q lack %q", got, want)
	}
}

// TestFindingSetsCapped: one finding counts at most maxFindingSet users
// or addresses, and says so.
func TestFindingSetsCapped(t *testing.T) {
	e := NewEngine(DefaultConfig(), Options{})
	for i := range 1500 {
		ip := netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)})
		e.Observe(parse.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Kind: parse.KindLogin,
			Result: parse.Failure, User: "bob", HasUser: true, Addr: ip, File: "mail.log", Line: i + 1}, devFR)
		e.Observe(parse.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Kind: parse.KindLogin,
			Result: parse.Failure, User: fmt.Sprintf("u%d", i), HasUser: true, Addr: netip.MustParseAddr("192.0.2.1"), File: "mail.log", Line: i + 1}, devFR)
	}
	seen := 0
	for _, f := range e.Flush() {
		var want string
		switch f.Rule {
		case RuleDistributedAttack:
			want = "from 1000+ addresses"
		case RulePasswordSpray:
			want = "for 1000+ distinct users"
		default:
			continue
		}
		if !strings.Contains(f.Message, want) || len(f.Addresses) > DefaultConfig().MaxAddresses {
			t.Errorf("%s: message %q (want %q), %d addresses", f.Rule, f.Message, want, len(f.Addresses))
		}
		a := e.findings[aggKey{rule: f.Rule, user: f.User, subject: f.RemoteIP}]
		if len(a.users) > maxFindingSet || len(a.addrs) > maxFindingSet {
			t.Errorf("%s: set not capped", f.Rule)
		}
		seen++
	}
	if seen != 2 {
		t.Errorf("%d of the two findings seen", seen)
	}
}

// TestCampaignPastMembers: past the members a campaign lists
// (MaxSources/5), later sources still count, stay in the same campaign
// and are accused; the finding says more joined than it lists.
func TestCampaignPastMembers(t *testing.T) {
	e := NewEngine(DefaultConfig(), Options{})
	e.maxSources = 50 // lists 10 members
	const n = 200
	var last netip.Addr
	for i := range n {
		last = netip.AddrFrom4([4]byte{45, 1, byte(i >> 8), byte(i)})
		e.Observe(parse.Event{Time: t0.Add(time.Duration(i) * 10 * time.Second), Kind: parse.KindLogin,
			Result: parse.Failure, User: fmt.Sprintf("user%d", i), HasUser: true, Addr: last, File: "mail.log", Line: i + 1}, devFR)
	}
	var camps []Finding
	for _, f := range e.Flush() {
		if f.Rule == RuleSprayCampaign {
			camps = append(camps, f)
		}
	}
	if len(camps) != 1 {
		t.Fatalf("%d campaign findings, want 1: %+v", len(camps), camps)
	}
	c := camps[0]
	if c.Count != n || len(c.Campaign.Members) != 10 || c.Campaign.NotTracked != n-10 {
		t.Errorf("count %d, members %d, not tracked %d; want %d, 10, %d", c.Count, len(c.Campaign.Members), c.Campaign.NotTracked, n, n-10)
	}
	if !strings.Contains(c.Message, "from 10+ addresses") {
		t.Errorf("message does not say more joined than listed: %s", c.Message)
	}
	if e.accusedAt(last, t0.Add(n*10*time.Second)) == nil {
		t.Error("a source beyond the listed members is not accused")
	}
}
