package rules

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var t0 = time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC)

var (
	devDE   = ipranges.Origin{Class: ipranges.Device, ASN: 64500, Country: "DE"}
	devFR   = ipranges.Origin{Class: ipranges.Device, ASN: 64501, Country: "FR"}
	msft    = ipranges.Origin{Class: ipranges.Intermediary, Provider: "microsoft", Product: "Exchange Online", Confidence: ipranges.High, ASN: 8075, Country: "IE"}
	private = ipranges.Origin{Class: ipranges.Private}
)

// step is one event with its origin.
type step struct {
	ev parse.Event
	o  ipranges.Origin
}

// line numbers events in the order tests build them.
type builder struct{ line int }

func (b *builder) ev(res parse.Result, user, ip string, at time.Duration, o ipranges.Origin) step {
	b.line++
	ev := parse.Event{Time: t0.Add(at), Kind: parse.KindLogin, Service: "imap", Result: res,
		User: user, HasUser: user != "", RemoteIP: ip, Addr: netip.MustParseAddr(ip),
		TLS: parse.TLSYes, Method: "PLAIN", File: "mail.log", Line: b.line}
	return step{ev, o}
}

func (b *builder) fail(user, ip string, at time.Duration) step {
	return b.ev(parse.Failure, user, ip, at, devDE)
}

func (b *builder) ok(user, ip string, at time.Duration, o ipranges.Origin) step {
	return b.ev(parse.Success, user, ip, at, o)
}

// series returns n failures of user from ip, every gap from start.
func (b *builder) series(n int, user, ip string, start, gap time.Duration) []step {
	var s []step
	for i := range n {
		s = append(s, b.fail(user, ip, start+time.Duration(i)*gap))
	}
	return s
}

func with(s step, f func(*parse.Event)) step { f(&s.ev); return s }

func cat(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch v := p.(type) {
		case step:
			out = append(out, v)
		case []step:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return out
}

// summary renders the fields a test asserts on.
func summary(f Finding) string {
	user := "-"
	if f.HasUser {
		user = f.User
	}
	rip := f.RemoteIP
	if rip == "" {
		rip = "[" + strings.Join(f.Addresses, " ") + "]"
	}
	return fmt.Sprintf("%s %s %s %s n=%d", f.Rule, f.Severity, user, rip, f.Count)
}

// learned is a baseline that already knows alice's home: 203.0.113.7 in
// 203.0.113.0/24, AS64500, DE.
// Her baseline is mature: 12 logins over 30 days.
func learned(t *testing.T) *MemoryBaseline {
	t.Helper()
	b := NewMemoryBaseline()
	for i := range 12 {
		for _, d := range Devices(netip.MustParseAddr("203.0.113.7"), devDE, 24, 48) {
			if err := b.Learn("alice", d, t0.Add(-30*24*time.Hour+time.Duration(i)*48*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b
}

func run(cfg Config, opts Options, steps []step) (observed, flushed []Finding) {
	e := NewEngine(cfg, opts)
	for _, s := range steps {
		observed = append(observed, e.Observe(s.ev, s.o)...)
	}
	observed = append(observed, e.Drain()...)
	return observed, e.Flush()
}

func TestEngineRules(t *testing.T) {
	mustAllow := func(s string) *Allowlist {
		a, err := ParseAllowlist(strings.NewReader(s), "allow.txt")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var b builder
	tests := []ruleCase{
		// brute-force
		{name: "brute force from one address against two users",
			steps: cat(b.series(6, "alice", "198.51.100.9", 0, 10*time.Second),
				b.series(6, "bob", "198.51.100.9", time.Minute, 10*time.Second)),
			want: []string{"brute-force medium - 198.51.100.9 n=12"}},
		{name: "nine failures are below the brute-force threshold",
			steps: b.series(9, "alice", "198.51.100.9", 0, time.Second)},
		{name: "one line with 13 attempts is brute force against that user",
			steps: cat(with(b.fail("alice", "198.51.100.9", 0), func(e *parse.Event) { e.Attempts = 13 })),
			want:  []string{"brute-force medium alice 198.51.100.9 n=13"}},
		{name: "failures spread beyond the window are not brute force",
			steps: b.series(9, "alice", "198.51.100.9", 0, 2*time.Minute), // 16 min
			cfg:   func(c *Config) { c.StaleCredentials.Enabled = false }},
		{name: "auth detail lines never double count",
			steps: cat(b.series(9, "alice", "198.51.100.9", 0, time.Second),
				func() []step {
					s := b.series(9, "alice", "198.51.100.9", 0, time.Second)
					for i := range s {
						s[i].ev.Kind = parse.KindAuth
					}
					return s
				}())},
		{name: "no auth attempts aborts are not failures",
			steps: func() []step {
				var s []step
				for i := range 50 {
					s = append(s, b.ev(parse.Aborted, "", "198.51.100.9", time.Duration(i)*time.Second, devDE))
				}
				return s
			}()},
		{name: "connection-limit refusals are not failures",
			steps: func() []step {
				var s []step
				for i := range 30 {
					s = append(s, with(b.fail("alice", "203.0.113.7", time.Duration(i)*time.Second), func(e *parse.Event) { e.Refused = true }))
				}
				return s
			}(),
			opts: func() Options { return Options{Baseline: learned(t)} }},
		// stale credentials (false-positive design)
		{name: "phone with a stale password retrying all night, known address",
			steps: b.series(40, "alice", "203.0.113.7", 0, 15*time.Minute),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"stale-credentials low alice 203.0.113.7 n=40"}},
		{name: "phone retrying fast from a known network is still not brute force",
			steps: b.series(12, "alice", "203.0.113.50", 0, 20*time.Second),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"stale-credentials low alice 203.0.113.50 n=12"}},
		{name: "slow failures from an unknown address are slow guessing",
			steps: b.series(40, "alice", "198.51.100.9", 0, 15*time.Minute),
			want:  []string{"brute-force low alice 198.51.100.9 n=40"}},
		{name: "slow failures for several accounts are slow guessing",
			steps: func() []step {
				var s []step
				for i := range 20 {
					s = append(s, b.fail("alice", "198.51.100.9", time.Duration(i)*30*time.Minute))
					s = append(s, b.fail("bob", "198.51.100.9", time.Duration(i)*30*time.Minute+15*time.Minute))
				}
				return s
			}(),
			want: []string{"brute-force medium - 198.51.100.9 n=40"}},
		{name: "slow guessing of one account turns medium when a second account is tried",
			steps: cat(b.series(12, "alice", "198.51.100.9", 0, 30*time.Minute), b.fail("bob", "198.51.100.9", 7*time.Hour)),
			want:  []string{"brute-force medium - 198.51.100.9 n=13"}},
		{name: "nine slow failures a day are not slow guessing",
			steps: b.series(9, "alice", "198.51.100.9", 0, 2*time.Hour)},
		{name: "the same slow series for another user of a known address is not familiar",
			steps: b.series(12, "bob", "203.0.113.7", 0, 20*time.Second),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"brute-force medium bob 203.0.113.7 n=12"}},
		// password spray
		{name: "password spray: six users from one address",
			steps: cat(b.fail("u1", "198.51.100.9", 0), b.fail("u2", "198.51.100.9", time.Minute),
				b.fail("u3", "198.51.100.9", 2*time.Minute), b.fail("u4", "198.51.100.9", 3*time.Minute),
				b.fail("u5", "198.51.100.9", 4*time.Minute), b.fail("u6", "198.51.100.9", 5*time.Minute)),
			want: []string{"password-spray medium - 198.51.100.9 n=6"}},
		{name: "spray, not brute force, when many users fail fast",
			steps: func() []step {
				var s []step
				for i := range 20 {
					s = append(s, b.fail(fmt.Sprintf("u%d", i), "198.51.100.9", time.Duration(i)*time.Second))
				}
				return s
			}(),
			want: []string{"password-spray medium - 198.51.100.9 n=20"}},
		{name: "four users are not a spray",
			steps: cat(b.fail("u1", "198.51.100.9", 0), b.fail("u2", "198.51.100.9", time.Minute),
				b.fail("u3", "198.51.100.9", 2*time.Minute), b.fail("u4", "198.51.100.9", 3*time.Minute))},
		{name: "a spray spread over more than the window is not a spray",
			steps: cat(b.fail("u1", "198.51.100.9", 0), b.fail("u2", "198.51.100.9", 7*time.Hour),
				b.fail("u3", "198.51.100.9", 14*time.Hour), b.fail("u4", "198.51.100.9", 21*time.Hour),
				b.fail("u5", "198.51.100.9", 28*time.Hour))},
		{name: "a slow spray within a day is a spray",
			steps: cat(b.fail("u1", "198.51.100.9", 0), b.fail("u2", "198.51.100.9", 3*time.Hour),
				b.fail("u3", "198.51.100.9", 6*time.Hour), b.fail("u4", "198.51.100.9", 9*time.Hour),
				b.fail("u5", "198.51.100.9", 12*time.Hour)),
			want: []string{"password-spray medium - 198.51.100.9 n=5"}},
		// distributed attack
		{name: "distributed attack on one user from ten addresses",
			steps: func() []step {
				var s []step
				for i := range 10 {
					s = append(s, b.fail("bob", fmt.Sprintf("192.0.2.%d", i+1), time.Duration(i)*time.Minute))
				}
				return s
			}(),
			want: []string{"distributed-attack high bob [192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7 192.0.2.8 192.0.2.9 192.0.2.10] n=10"}},
		{name: "nine addresses are not a distributed attack",
			steps: func() []step {
				var s []step
				for i := range 9 {
					s = append(s, b.fail("bob", fmt.Sprintf("192.0.2.%d", i+1), time.Duration(i)*time.Minute))
				}
				return s
			}()},
		{name: "outlook retrying a stale password from many microsoft addresses is one source",
			steps: func() []step {
				var s []step
				for i := range 30 {
					s = append(s, b.ev(parse.Failure, "bob", fmt.Sprintf("52.98.%d.%d", i/8, i), time.Duration(i)*time.Minute, msft))
				}
				return s
			}()},
		// success after failures
		{name: "success after failures from the same address",
			steps: cat(b.series(5, "alice", "198.51.100.9", 0, 30*time.Second), b.ok("alice", "198.51.100.9", 5*time.Minute, devDE)),
			want:  []string{"success-after-failures high alice 198.51.100.9 n=6"}},
		{name: "failures of others in the network are not pooled",
			steps: cat(b.series(3, "alice", "198.51.100.9", 0, time.Minute),
				b.series(3, "bob", "198.51.100.10", 0, time.Minute),
				b.ok("bob", "198.51.100.11", 10*time.Minute, devDE))},
		{name: "two failures then success from a new place is a typo",
			steps: cat(b.series(2, "alice", "198.51.100.9", 0, 30*time.Second), b.ok("alice", "198.51.100.9", 2*time.Minute, devDE))},
		{name: "user fixing the stale password on a known device is not a compromise",
			steps: cat(b.series(8, "alice", "203.0.113.7", 0, time.Minute), b.ok("alice", "203.0.113.7", 10*time.Minute, devDE)),
			opts:  func() Options { return Options{Baseline: learned(t)} }},
		{name: "success long after failures is not success-after-failures",
			steps: cat(b.series(5, "alice", "198.51.100.9", 0, 30*time.Second), b.ok("alice", "198.51.100.9", 3*time.Hour, devDE))},
		{name: "webmail on loopback: failures for many users then success",
			steps: func() []step {
				var s []step
				for i := range 20 {
					s = append(s, with(b.ev(parse.Failure, fmt.Sprintf("u%d", i), "127.0.0.1", time.Duration(i)*time.Second, private),
						func(e *parse.Event) { e.Secured = true; e.TLS = parse.TLSNo }))
				}
				s = append(s, with(b.ok("u1", "::1", time.Minute, private), func(e *parse.Event) { e.TLS = parse.TLSNo }))
				return s
			}()},
		// new device
		{name: "login from a new network, ASN and country",
			steps: cat(b.ok("alice", "198.51.100.1", 0, devFR), b.ok("alice", "198.51.100.1", time.Hour*2, devFR)),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"new-device medium alice 198.51.100.1 n=2"}},
		{name: "new network in a known ASN and country is low",
			steps: cat(b.ok("alice", "198.51.100.1", 0, devDE)),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"new-device low alice 198.51.100.1 n=1"}},
		{name: "new address in a known network is not reported by default",
			steps: cat(b.ok("alice", "203.0.113.99", 0, devDE)),
			opts:  func() Options { return Options{Baseline: learned(t)} }},
		{name: "new address is reported when configured",
			steps: cat(b.ok("alice", "203.0.113.99", 0, devDE)),
			cfg:   func(c *Config) { c.NewDevice.Report = []string{"address"} },
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"new-device low alice 203.0.113.99 n=1"}},
		{name: "a young baseline is learned silently",
			steps: cat(b.ok("carol", "203.0.113.7", 0, devDE), b.ok("carol", "198.51.100.1", time.Hour*3, devDE))},
		{name: "a new hosting network is medium",
			steps: cat(b.ok("alice", "198.51.100.1", 0, ipranges.Origin{Class: ipranges.Hosting, ASN: 64500, Country: "DE"})),
			opts:  func() Options { return Options{Baseline: learned(t)} },
			want:  []string{"new-device medium alice 198.51.100.1 n=1"}},
		{name: "webmail on loopback and private space are not new devices",
			steps: cat(with(b.ok("alice", "127.0.0.1", 0, private), func(e *parse.Event) { e.Secured = true }),
				b.ok("alice", "::1", time.Minute, private),
				b.ok("alice", "192.168.1.20", time.Hour*2, private)),
			opts: func() Options { return Options{Baseline: learned(t)} }},
		{name: "an allowlisted login is not a new device",
			steps: cat(b.ok("alice", "198.51.100.1", 0, devDE)),
			opts:  func() Options { return Options{Baseline: learned(t), Allow: mustAllow("198.51.100.0/24")} }},
		// impossible travel
		{name: "two countries twenty minutes apart",
			steps: cat(b.ok("alice", "203.0.113.7", 0, devDE), b.ok("alice", "198.51.100.1", 20*time.Minute, devFR)),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false },
			want:  []string{"impossible-travel medium alice 198.51.100.1 n=1"}},
		{name: "two countries two hours apart",
			steps: cat(b.ok("alice", "203.0.113.7", 0, devDE), b.ok("alice", "198.51.100.1", 2*time.Hour, devFR)),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false }},
		{name: "a cloud intermediary in another country is no travel",
			steps: cat(b.ok("alice", "203.0.113.7", 0, devDE), b.ok("alice", "52.98.1.1", time.Minute, msft)),
			cfg:   func(c *Config) { c.NewDevice.Enabled = false; c.CloudIntermediary.Enabled = false }},
		// cleartext
		{name: "cleartext PLAIN login from the internet",
			steps: cat(with(b.ok("alice", "203.0.113.7", 0, devDE), func(e *parse.Event) { e.TLS = parse.TLSNo })),
			want:  []string{"cleartext-auth medium alice 203.0.113.7 n=1"}},
		{name: "cleartext on loopback, secured, challenge-response or unknown TLS",
			steps: cat(with(b.ok("alice", "127.0.0.1", 0, private), func(e *parse.Event) { e.TLS = parse.TLSNo }),
				with(b.ok("alice", "10.0.0.5", 0, private), func(e *parse.Event) { e.TLS = parse.TLSNo; e.Secured = true }),
				with(b.ok("alice", "203.0.113.7", 0, devDE), func(e *parse.Event) { e.TLS = parse.TLSNo; e.Method = "CRAM-MD5" }),
				with(b.ok("alice", "203.0.113.7", 0, devDE), func(e *parse.Event) { e.TLS = parse.TLSUnknown; e.Kind = parse.KindSASL }))},
		{name: "a failed cleartext attempt is not cleartext-auth",
			steps: cat(with(b.fail("alice", "203.0.113.7", 0), func(e *parse.Event) { e.TLS = parse.TLSNo }))},
		// cloud intermediary
		{name: "outlook through three microsoft addresses is one finding",
			steps: cat(b.ok("bob", "52.98.1.1", 0, msft), b.ok("bob", "52.98.1.2", time.Minute, msft),
				b.ok("bob", "52.98.1.1", 2*time.Minute, msft), b.ok("alice", "52.98.1.1", 3*time.Minute, msft)),
			want: []string{"cloud-intermediary info bob [52.98.1.1 52.98.1.2] n=3",
				"cloud-intermediary info alice [52.98.1.1] n=1"}},
		// allowlist
		{name: "not allowlisted, allowlisted, provider allowed for one user",
			steps: cat(b.ok("alice", "198.51.100.1", 0, devDE), b.ok("alice", "203.0.113.9", time.Minute, devDE),
				b.ok("alice", "52.98.1.1", 2*time.Minute, msft), b.ok("bob", "52.98.1.1", 3*time.Minute, msft),
				b.ok("bob", "127.0.0.1", 4*time.Minute, private)),
			cfg:  func(c *Config) { c.NewDevice.Enabled = false },
			opts: func() Options { return Options{Allow: mustAllow("203.0.113.0/24\nprovider:microsoft alice\n")} },
			want: []string{"not-allowlisted high alice 198.51.100.1 n=1",
				"cloud-intermediary info bob [52.98.1.1] n=1",
				"not-allowlisted high bob 52.98.1.1 n=1"}},
		{name: "without an allowlist nothing is not-allowlisted",
			steps: cat(b.ok("alice", "198.51.100.1", 0, devDE))},
		{name: "a refused login after failures is a compromise too (the password was right)",
			steps: cat(b.series(5, "alice", "198.51.100.9", 0, 30*time.Second),
				with(b.fail("alice", "198.51.100.9", 5*time.Minute), func(e *parse.Event) { e.Refused = true })),
			want: []string{"success-after-failures high alice 198.51.100.9 n=6"}},
		{name: "postfix sasl failures count, one ipv6 /64 is one source",
			steps: func() []step {
				var s []step
				for i := range 5 {
					s = append(s, with(b.fail("bob", fmt.Sprintf("2001:db8:1:ff::%x", i+10), time.Duration(i)*time.Second),
						func(e *parse.Event) { e.Kind = parse.KindSASL; e.Service = "smtp" }))
				}
				s = append(s, b.ok("bob", "2001:db8:1:ff::2", time.Minute, devDE))
				return s
			}(),
			want: []string{"success-after-failures high bob 2001:db8:1:ff::2 n=6"}},
		{name: "failures without a user name are brute force with no user",
			steps: func() []step {
				var s []step
				for i := range 10 {
					s = append(s, b.fail("", "198.51.100.9", time.Duration(i)*time.Second))
				}
				return s
			}(),
			want: []string{"brute-force medium - 198.51.100.9 n=10"}},
		{name: "ipv4-mapped and plain forms are one address",
			steps: func() []step {
				var s []step
				for i := range 10 {
					ip := "198.51.100.9"
					if i%2 == 0 {
						ip = "::ffff:198.51.100.9"
					}
					s = append(s, b.fail("", ip, time.Duration(i)*time.Second))
				}
				return s
			}(),
			want: []string{"brute-force medium - 198.51.100.9 n=10"}},
		{name: "disabled rules stay silent",
			steps: cat(b.series(20, "alice", "198.51.100.9", 0, time.Second)),
			cfg:   func(c *Config) { c.BruteForce.Enabled = false; c.StaleCredentials.Enabled = false }},
	}
	runScenarios(t, tests)
}

// ruleCase is one row of the rules' scenario tables: events in, the
// summaries of the findings Flush returns out.
type ruleCase struct {
	name  string
	cfg   func(*Config)
	opts  func() Options
	steps []step
	want  []string
}

// runScenarios runs each scenario through a fresh Engine and checks its
// findings: the expected ones, each returned once by Observe, complete,
// and with evidence within the cap.
func runScenarios(t *testing.T, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			var opts Options
			if tt.opts != nil {
				opts = tt.opts()
			}
			observed, flushed := run(cfg, opts, tt.steps)
			var got []string
			for _, f := range flushed {
				got = append(got, summary(f))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings\n got %q\nwant %q", got, tt.want)
			}
			if len(observed) != len(flushed) {
				t.Errorf("Observe returned %d findings, Flush %d", len(observed), len(flushed))
			}
			for _, f := range flushed {
				if f.Message == "" || f.First.IsZero() || f.Last.Before(f.First) || len(f.Evidence) == 0 {
					t.Errorf("incomplete finding %+v", f)
				}
				if len(f.Evidence) > cfg.EvidenceCap {
					t.Errorf("%s: %d evidence entries, cap %d", f.Rule, len(f.Evidence), cfg.EvidenceCap)
				}
			}
		})
	}
}

func TestSuccessAfterFailuresEvidence(t *testing.T) {
	var b builder
	steps := cat(b.series(15, "alice", "198.51.100.9", 0, 10*time.Second), b.ok("alice", "198.51.100.9", 5*time.Minute, devDE))
	cfg := DefaultConfig()
	cfg.BruteForce.Failures = 100 // 15 own failures are guessing by default
	_, fs := run(cfg, Options{}, steps)
	var saf *Finding
	for i := range fs {
		if fs[i].Rule == RuleSuccessAfterFailures {
			saf = &fs[i]
		}
	}
	if saf == nil {
		t.Fatalf("no success-after-failures in %v", fs)
	}
	if len(saf.Evidence) != 10 || saf.Evidence[9] != "mail.log:16" || saf.Evidence[0] != "mail.log:7" {
		t.Errorf("evidence = %v, want the last 9 failures and the success line", saf.Evidence)
	}
	if !saf.First.Equal(t0) || !saf.Last.Equal(t0.Add(5*time.Minute)) || saf.Count != 16 {
		t.Errorf("first %v last %v count %d", saf.First, saf.Last, saf.Count)
	}
}

// TestScenarioGolden runs a mixed night of logs and compares every finding
// field with testdata/scenario.golden.json (go test ./rules -update).
func TestScenarioGolden(t *testing.T) {
	steps := scenario()
	_, got := run(DefaultConfig(), Options{Baseline: learned(t)}, steps)
	// Determinism: the same input gives the same findings in the same order.
	for range 3 {
		if _, again := run(DefaultConfig(), Options{Baseline: learned(t)}, steps); !reflect.DeepEqual(got, again) {
			t.Fatal("second run differs")
		}
	}
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	golden := filepath.Join("testdata", "scenario.golden.json")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./rules -update)", err)
	}
	if string(data) != string(want) {
		t.Errorf("findings differ from %s (go test ./rules -update, then review the diff):\n%s", golden, data)
	}
}

func scenario() []step {
	var b builder
	var s []step
	s = append(s, b.ok("alice", "203.0.113.7", 0, devDE))
	s = append(s, b.series(30, "alice", "203.0.113.7", time.Minute, 15*time.Minute)...) // stale phone
	for i := range 7 {                                                                  // spray
		s = append(s, b.fail(fmt.Sprintf("user%d@example.org", i), "192.0.2.66", time.Duration(i)*time.Minute))
	}
	s = append(s, b.series(12, "bob", "198.51.100.9", time.Hour, 5*time.Second)...) // brute force
	s = append(s, b.ok("bob", "198.51.100.9", time.Hour+2*time.Minute, devFR))      // …that worked
	s = append(s, b.ok("bob", "52.98.3.4", 2*time.Hour, msft))
	s = append(s, with(b.ok("carol", "198.51.100.77", 3*time.Hour, devFR), func(e *parse.Event) { e.TLS = parse.TLSNo }))
	s = append(s, with(b.ok("dave", "127.0.0.1", 3*time.Hour, private), func(e *parse.Event) { e.Secured = true; e.TLS = parse.TLSNo }))
	s = append(s, b.ok("alice", "198.51.100.200", 9*time.Hour, devFR)) // new network and country
	// One log file: in time order, numbered in that order.
	slices.SortStableFunc(s, func(a, b step) int { return a.ev.Time.Compare(b.ev.Time) })
	for i := range s {
		s[i].ev.Line = i + 1
	}
	return s
}

// TestOutOfOrderAndHostile feeds shuffled, hostile events: the engine
// must not panic and must stay deterministic for a given order.
func TestOutOfOrderAndHostile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	users := []string{"", "alice", "bob\x00", "<>", strings.Repeat("x", 300), "\xff\xfe", "a%s%d"}
	origins := []ipranges.Origin{{}, devDE, devFR, msft, private}
	var steps []step
	for i := range 10000 {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(r.IntN(3)), byte(r.IntN(256))})
		if r.IntN(10) == 0 {
			ip = netip.MustParseAddr("::ffff:203.0.113.7")
		}
		user := users[r.IntN(len(users))]
		ev := parse.Event{
			Time:     t0.Add(time.Duration(r.IntN(7200)-3600) * time.Second),
			Kind:     parse.Kind(r.IntN(4)),
			Result:   parse.Result(r.IntN(4)),
			User:     user,
			HasUser:  user != "" && r.IntN(5) > 0,
			Addr:     ip,
			RemoteIP: ip.String(),
			TLS:      parse.TLS(r.IntN(3)),
			Secured:  r.IntN(10) == 0,
			Refused:  r.IntN(20) == 0,
			Attempts: r.IntN(5) - 1,
			Line:     i + 1,
		}
		if r.IntN(50) == 0 {
			ev.Time = time.Time{}
		}
		if r.IntN(100) == 0 {
			ev.Attempts = 1 << 40
		}
		steps = append(steps, step{ev, origins[r.IntN(len(origins))]})
	}
	a := NewAllowlist(t, "198.51.0.0/24\nprovider:microsoft\n")
	_, f1 := run(DefaultConfig(), Options{Allow: a}, steps)
	_, f2 := run(DefaultConfig(), Options{Allow: a}, steps)
	if !reflect.DeepEqual(f1, f2) || len(f1) == 0 {
		t.Fatalf("nondeterministic or empty: %d vs %d findings", len(f1), len(f2))
	}
	for _, f := range f1 {
		if f.Count <= 0 || f.Count > 1000*len(steps) {
			t.Errorf("count %d out of range in %+v", f.Count, f)
		}
	}
}

func NewAllowlist(t *testing.T, s string) *Allowlist {
	t.Helper()
	a, err := ParseAllowlist(strings.NewReader(s), "allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMemoryBounded checks that idle window state is dropped as event
// time advances.
func TestMemoryBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StaleCredentials.Window = time.Hour
	cfg.BruteForce.SlowWindow, cfg.PasswordSpray.Window = time.Hour, time.Hour
	e := NewEngine(cfg, Options{})
	for i := range 30000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		ev := parse.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: parse.KindLogin,
			Result: parse.Failure, User: fmt.Sprintf("u%d", i), HasUser: true, Addr: ip}
		e.Observe(ev, devDE)
	}
	// Windows are at most 1h = 3600 events of one second here; a sweep
	// runs after a quarter as many events as there were states, so state
	// stays within about twice what the windows hold.
	live := 4 * 3600
	if n := len(e.pairs) + len(e.sources) + len(e.users); n > 2*live+sweepEvery {
		t.Errorf("%d window states kept, want at most %d", n, 2*live+sweepEvery)
	}
	if n := len(e.sources); n >= 30000 {
		t.Errorf("address windows never dropped: %d", n)
	}
}

func TestWindowItemsCapped(t *testing.T) {
	e := NewEngine(DefaultConfig(), Options{})
	for i := range 3 * minWindowItems {
		ev := parse.Event{Time: t0, Kind: parse.KindLogin, Result: parse.Failure,
			User: "alice", HasUser: true, Addr: netip.MustParseAddr("198.51.100.9"), Line: i + 1, File: "x"}
		e.Observe(ev, devDE)
	}
	e.resolveAll()
	st := e.sources[netip.MustParseAddr("198.51.100.9")]
	if len(st.burst()) > minWindowItems || st.day.len() > minWindowItems {
		t.Errorf("window items %d/%d exceed %d", len(st.burst()), st.day.len(), minWindowItems)
	}
	if len(st.burst()) != minWindowItems || st.burstSum != minWindowItems {
		t.Errorf("burst: %d items summing %d, want the day's newest %d", len(st.burst()), st.burstSum, minWindowItems)
	}
	fs := e.Flush()
	if len(fs) == 0 || fs[0].Count != 3*minWindowItems || len(fs[0].Evidence) != 10 {
		t.Errorf("aggregated finding: %+v", fs)
	}
}

// BenchmarkObserve is an attack-heavy stream: 75% failures from 1024
// addresses against 500 users, so nearly every rule fires.
func BenchmarkObserve(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var evs []parse.Event
	for i := range 100000 {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(r.IntN(4)), byte(r.IntN(256))})
		res := parse.Failure
		if r.IntN(4) == 0 {
			res = parse.Success
		}
		evs = append(evs, parse.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: parse.KindLogin,
			Result: res, User: fmt.Sprintf("user%d", r.IntN(500)), HasUser: true, Addr: ip,
			TLS: parse.TLSYes, File: "mail.log", Line: i + 1})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := NewEngine(DefaultConfig(), Options{})
		for _, ev := range evs {
			e.Observe(ev, devDE)
		}
		e.Flush()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkObserveQuiet is a quiet server: 500 users on two devices each,
// 5% failed logins; few findings.
func BenchmarkObserveQuiet(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var evs []parse.Event
	for i := range 100000 {
		u := r.IntN(500)
		ip := netip.AddrFrom4([4]byte{198, 51, byte(u >> 2), byte(u<<1 | r.IntN(2))})
		res := parse.Success
		if r.IntN(20) == 0 {
			res = parse.Failure
		}
		evs = append(evs, parse.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: parse.KindLogin,
			Result: res, User: fmt.Sprintf("user%d", u), HasUser: true, Addr: ip,
			TLS: parse.TLSYes, File: "mail.log", Line: i + 1})
	}
	b.ReportAllocs()
	for b.Loop() {
		e := NewEngine(DefaultConfig(), Options{})
		for _, ev := range evs {
			e.Observe(ev, devDE)
		}
		e.Flush()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
