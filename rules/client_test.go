package rules

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/parse"
)

// idSent returns the client event of an "imap-login: ID sent: name=…" line
// of session from ip.
func (b *builder) idSent(name, session, ip string, at time.Duration) step {
	b.line++
	ev := parse.Event{Time: t0.Add(at), Kind: parse.KindClient, Service: "imap",
		RemoteIP: ip, Addr: netip.MustParseAddr(ip), Session: session, Client: name, File: "mail.log", Line: b.line}
	return step{ev, devDE}
}

// okSession is a successful login of session.
func (b *builder) okSession(user, session, ip string, at time.Duration) step {
	return with(b.ok(user, ip, at, devDE), func(e *parse.Event) { e.Session = session })
}

// learnedClient is learned with Thunderbird as alice's known client.
func learnedClient(t *testing.T) *MemoryBaseline {
	t.Helper()
	b := learned(t)
	if err := b.Learn("alice", Device{FacetClient, "thunderbird"}, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return b
}

func reportClient(c *Config) { c.NewDevice.Report = append(c.NewDevice.Report, string(FacetClient)) }

// TestClientFacet: the program a connection named (IMAP ID) is a device
// facet of its login, reported as new only when configured.
func TestClientFacet(t *testing.T) {
	var b builder
	home := "203.0.113.7" // alice's known address, network, ASN and country
	runScenarios(t, []ruleCase{
		{name: "a new client from a known address is reported when configured",
			steps: cat(b.idSent("Evil Mailer", "S1", home, 0), b.okSession("alice", "S1", home, time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} },
			want:  []string{"new-device low alice 203.0.113.7 n=1"}},
		{name: "a new client is not reported by default",
			steps: cat(b.idSent("Evil Mailer", "S1", home, 0), b.okSession("alice", "S1", home, time.Second)),
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "the known client in another case is not new",
			steps: cat(b.idSent("ThunderBird", "S1", home, 0), b.okSession("alice", "S1", home, time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "a login without an ID line has no client facet",
			steps: cat(b.okSession("alice", "S1", home, time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "the client of another session is not the login's",
			steps: cat(b.idSent("Evil Mailer", "S2", home, 0), b.okSession("alice", "S1", home, time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "a session named from another address lends no client",
			steps: cat(b.idSent("Evil Mailer", "S1", "198.51.100.66", 0), b.okSession("alice", "S1", home, time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "a client event is not a login",
			steps: cat(b.idSent("Evil Mailer", "S1", "198.51.100.1", 0), b.idSent("x", "S2", "198.51.100.1", time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} }},
		{name: "a new client and a new network are one finding",
			steps: cat(b.idSent("Evil", "S1", "198.51.100.1", 0), b.okSession("alice", "S1", "198.51.100.1", time.Second)),
			cfg:   reportClient,
			opts:  func() Options { return Options{Baseline: learnedClient(t)} },
			want:  []string{"new-device low alice 198.51.100.1 n=1"}},
	})
}

// TestClientFacetLearned: the client facet is learned with the login,
// once (the session is forgotten), without counting as another login.
func TestClientFacetLearned(t *testing.T) {
	for _, reorder := range []bool{false, true} {
		var b builder
		base := NewMemoryBaseline()
		e := NewEngine(DefaultConfig(), Options{Baseline: base})
		var r *Reorder
		observe := e.Observe
		if reorder {
			r = NewReorder(e, 16)
			observe = r.Observe
		}
		for _, s := range []step{
			b.idSent("Thunderbird", "S1", "192.0.2.1", 0),
			b.okSession("bob", "S1", "192.0.2.1", time.Second),
			b.okSession("bob", "S1", "192.0.2.2", 2*time.Second), // the session is taken
		} {
			observe(s.ev, s.o)
		}
		if r != nil {
			r.Drain()
		}
		known, err := base.Known("bob", Device{FacetClient, "thunderbird"})
		if err != nil || !known {
			t.Errorf("reorder %v: client facet not learned (%v)", reorder, err)
		}
		if _, n, _ := base.Since("bob"); n != 2 {
			t.Errorf("reorder %v: %d logins learned, want 2", reorder, n)
		}
		if len(e.clients.m) != 0 {
			t.Errorf("reorder %v: %d sessions still remembered", reorder, len(e.clients.m))
		}
	}
}

func TestClientFacetMessage(t *testing.T) {
	var b builder
	cfg := DefaultConfig()
	reportClient(&cfg)
	_, fs := run(cfg, Options{Baseline: learnedClient(t)},
		cat(b.idSent("Evil Mailer", "S1", "203.0.113.7", 0), b.okSession("alice", "S1", "203.0.113.7", time.Second)))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "new client evil mailer") {
		t.Fatalf("findings %+v", fs)
	}
}

func TestClientMemoryBounded(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.1")
	ev := func(session string) parse.Event {
		return parse.Event{Kind: parse.KindClient, Session: session, Addr: addr, Client: "C-" + session}
	}
	tests := []struct {
		name    string
		add     []string
		take    string
		want    string
		wantLen int
	}{
		{"kept", []string{"a", "b"}, "a", "c-a", 1},
		{"oldest dropped", []string{"a", "b", "c"}, "a", "", 2},
		{"newest kept", []string{"a", "b", "c"}, "c", "c-c", 1},
		{"a session named again is not dropped by its older slot", []string{"a", "b", "a"}, "a", "c-a", 1},
		{"no session", []string{""}, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientMemory{max: 2}
			for _, s := range tt.add {
				c.remember(ev(s))
			}
			got, _ := c.take(tt.take, addr)
			if got != tt.want || len(c.m) != tt.wantLen || len(c.ring) > 2 {
				t.Errorf("take %q = %q with %d left (ring %d), want %q with %d", tt.take, got, len(c.m), len(c.ring), tt.want, tt.wantLen)
			}
		})
	}
}

func TestClientFacetConfig(t *testing.T) {
	for _, tt := range []struct {
		report []string
		ok     bool
	}{
		{[]string{"client"}, true},
		{[]string{"network", "client"}, true},
		{[]string{"clients"}, false},
	} {
		cfg := DefaultConfig()
		cfg.NewDevice.Report = tt.report
		if err := cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("report %q: %v", tt.report, err)
		}
	}
	if d := DefaultConfig().NewDevice.Report; strings.Contains(strings.Join(d, ","), "client") {
		t.Errorf("client reported by default: %q", d)
	}
}
