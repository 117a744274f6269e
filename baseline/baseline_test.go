package baseline

import (
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

func open(t *testing.T) (*DB, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "state", FileName)
	d, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, p
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestLearnKnownPersist(t *testing.T) {
	d, p := open(t)
	addr := rules.Device{Facet: rules.FacetAddress, Value: "203.0.113.7"}
	asn := rules.Device{Facet: rules.FacetASN, Value: "AS64500"}
	if ok, err := d.HasUser("alice"); err != nil || ok {
		t.Fatalf("HasUser before learning = %v, %v", ok, err)
	}
	for i, tm := range []time.Time{t0.Add(time.Hour), t0, t0.Add(2 * time.Hour)} {
		if err := d.Learn("alice", addr, tm); err != nil {
			t.Fatalf("Learn %d: %v", i, err)
		}
	}
	if err := d.Learn("alice", asn, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Reads see rows of the open batch.
	if ok, err := d.Known("alice", addr); err != nil || !ok {
		t.Fatalf("Known(alice, addr) = %v, %v", ok, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600", perm)
	}

	d, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name string
		user string
		dev  rules.Device
		want bool
	}{
		{"learned address", "alice", addr, true},
		{"learned asn", "alice", asn, true},
		{"other user", "bob", addr, false},
		{"same value other facet", "alice", rules.Device{Facet: rules.FacetNetwork, Value: "203.0.113.7"}, false},
		{"user names are exact", "Alice", addr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Known(tt.user, tt.dev)
			if err != nil || got != tt.want {
				t.Errorf("Known(%q, %v) = %v, %v; want %v", tt.user, tt.dev, got, err, tt.want)
			}
		})
	}
	es, err := d.List("alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{User: "alice", Facet: rules.FacetAddress, Value: "203.0.113.7", FirstSeen: t0, LastSeen: t0.Add(2 * time.Hour), Count: 3},
		{User: "alice", Facet: rules.FacetASN, Value: "AS64500", Count: 1},
	}
	if fmt.Sprint(es) != fmt.Sprint(want) {
		t.Errorf("List(alice)\n got %v\nwant %v", es, want)
	}
}

func TestListOrderAndForget(t *testing.T) {
	d, _ := open(t)
	learn := func(user string, f rules.Facet, v string) {
		t.Helper()
		if err := d.Learn(user, rules.Device{Facet: f, Value: v}, t0); err != nil {
			t.Fatal(err)
		}
	}
	learn("bob", rules.FacetCountry, "DE")
	learn("bob", rules.FacetAddress, "198.51.100.1")
	learn("alice", rules.FacetNetwork, "203.0.113.0/24")
	learn("alice", rules.FacetAddress, "203.0.113.7")
	learn("alice", rules.FacetASN, "AS64500")
	learn("alice", rules.FacetCountry, "DE")

	es, err := d.List("")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.User+" "+string(e.Facet)+" "+e.Value)
	}
	want := "alice address 203.0.113.7|alice network 203.0.113.0/24|alice asn AS64500|alice country DE|bob address 198.51.100.1|bob country DE"
	if strings.Join(got, "|") != want {
		t.Fatalf("List order\n got %s\nwant %s", strings.Join(got, "|"), want)
	}

	tests := []struct {
		name, user, value string
		want              int
	}{
		{"normalized asn", "alice", "as64500", 1},
		{"normalized country", "alice", "de", 1},
		{"bob untouched by alice forget", "alice", "198.51.100.1", 0},
		{"network with host bits", "alice", "203.0.113.9/24", 1},
		{"unknown user", "carol", "", 0},
		{"all of bob", "bob", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := d.Forget(tt.user, tt.value)
			if err != nil || n != tt.want {
				t.Errorf("Forget(%q, %q) = %d, %v; want %d", tt.user, tt.value, n, err, tt.want)
			}
		})
	}
	es, err = d.List("")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Value != "203.0.113.7" {
		t.Errorf("after forgetting: %v", es)
	}
}

func TestNormalizeValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{" 2001:DB8::1 ", "2001:db8::1"},
		{"2001:db8:1::/48", "2001:db8:1::/48"},
		{"AS8075", "AS8075"},
		{"as8075", "AS8075"},
		{"asx", "asx"},
		{"fr", "FR"},
		{"x1", "x1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeValue(tt.in); got != tt.want {
				t.Errorf("NormalizeValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	d, p := open(t)
	d.Close()
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(p)
	if err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(notDir, "baseline.db"), garbage} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			d, err := Open(p)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%s) succeeded", p)
			}
		})
	}
}

func TestHostileUserNames(t *testing.T) {
	d, _ := open(t)
	users := []string{"", "x' OR '1'='1", "a\x00b", "\xff\xfe", strings.Repeat("u", 10000), "ü@example.org"}
	dev := rules.Device{Facet: rules.FacetAddress, Value: "192.0.2.1"}
	for _, u := range users {
		if err := d.Learn(u, dev, t0); err != nil {
			t.Fatalf("Learn(%q): %v", u, err)
		}
	}
	for _, u := range users {
		t.Run(fmt.Sprintf("%.20q", u), func(t *testing.T) {
			if ok, err := d.Known(u, dev); err != nil || !ok {
				t.Errorf("Known = %v, %v", ok, err)
			}
		})
	}
	if ok, _ := d.Known("x", dev); ok {
		t.Error("injection-shaped name matched another user")
	}
	if es, err := d.List(""); err != nil || len(es) != len(users) {
		t.Errorf("List: %d entries, %v; want %d", len(es), err, len(users))
	}
}

// TestEngineIntegration runs the rules engine over two "runs" sharing one
// database: the second run knows what the first learned.
func TestEngineIntegration(t *testing.T) {
	_, p := open(t)
	login := func(user, ip string, tm time.Time, line int) parse.Event {
		return parse.Event{Time: tm, Kind: parse.KindLogin, Service: "imap", Result: parse.Success,
			User: user, HasUser: true, RemoteIP: ip, Addr: netip.MustParseAddr(ip), TLS: parse.TLSYes,
			File: "mail.log", Line: line}
	}
	dev := ipranges.Origin{Class: ipranges.Device, ASN: 64500, Country: "DE"}
	run := func(evs ...parse.Event) []rules.Finding {
		d, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		eng := rules.NewEngine(rules.DefaultConfig(), rules.Options{Baseline: d})
		for _, ev := range evs {
			eng.Observe(ev, dev)
		}
		if err := eng.Err(); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		return eng.Flush()
	}
	// Twelve logins over 30 days: a mature baseline (learning period).
	var first []parse.Event
	for i := range 12 {
		first = append(first, login("alice", "203.0.113.7", t0.Add(-30*24*time.Hour+time.Duration(i)*48*time.Hour), i+1))
	}
	if fs := run(first...); len(fs) != 0 {
		t.Fatalf("first run (learning period): %v", fs)
	}
	fs := run(login("alice", "203.0.113.8", t0.Add(time.Hour), 1), login("alice", "198.51.100.9", t0.Add(2*time.Hour), 2))
	if len(fs) != 1 || fs[0].Rule != rules.RuleNewDevice || fs[0].RemoteIP != "198.51.100.9" {
		t.Fatalf("second run: %+v", fs)
	}
	if fs := run(login("alice", "198.51.100.9", t0.Add(3*time.Hour), 1)); len(fs) != 0 {
		t.Fatalf("third run re-reported a learned device: %v", fs)
	}
}

func BenchmarkLearn(b *testing.B) {
	d, err := Open(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dev := rules.Device{Facet: rules.FacetAddress, Value: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)}
		if err := d.Learn(fmt.Sprintf("user%d", i%1000), dev, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKnown(b *testing.B) {
	d, err := Open(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for i := range 10000 {
		dev := rules.Device{Facet: rules.FacetAddress, Value: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)}
		if err := d.Learn(fmt.Sprintf("user%d", i%1000), dev, t0); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	dev := rules.Device{Facet: rules.FacetAddress, Value: "10.0.0.5"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Known("user5", dev); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBatchesAndCache(t *testing.T) {
	d, p := open(t)
	const batchSize = 100
	d.batch = batchSize
	dev := func(i int) rules.Device {
		return rules.Device{Facet: rules.FacetAddress, Value: fmt.Sprintf("10.0.%d.%d", i>>8, i&255)}
	}
	n := batchSize*2 + 7
	for i := range n {
		if err := d.Learn("alice", dev(i), t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Two full batches are on disk before Close: another connection sees them.
	other, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var onDisk int
	if err := other.QueryRow(`SELECT count(*) FROM devices`).Scan(&onDisk); err != nil {
		t.Fatal(err)
	}
	if onDisk != 2*batchSize {
		t.Errorf("%d rows on disk before Sync, want %d", onDisk, 2*batchSize)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRow(`SELECT count(*) FROM devices`).Scan(&onDisk); err != nil || onDisk != n {
		t.Errorf("%d rows on disk after Sync (%v), want %d", onDisk, err, n)
	}
	// A cached "known" row must not survive Forget.
	if ok, _ := d.Known("alice", dev(1)); !ok {
		t.Fatal("row 1 unknown")
	}
	if k, err := d.Forget("alice", dev(1).Value); err != nil || k != 1 {
		t.Fatalf("Forget = %d, %v", k, err)
	}
	if ok, _ := d.Known("alice", dev(1)); ok {
		t.Error("forgotten row still known")
	}
	if k, err := d.Forget("alice", ""); err != nil || k != n-1 {
		t.Fatalf("Forget all = %d, %v", k, err)
	}
	if ok, _ := d.HasUser("alice"); ok {
		t.Error("forgotten user still has rows")
	}
}

// BenchmarkEngineQuiet runs the rules over a quiet server's logins (500
// users on two devices each) with this database as the baseline.
func BenchmarkEngineQuiet(b *testing.B) {
	var evs []parse.Event
	for i := range 100000 {
		u := i * 7919 % 500
		ip := netip.AddrFrom4([4]byte{198, 51, byte(u >> 2), byte(u<<1 | i&1)})
		evs = append(evs, parse.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: parse.KindLogin,
			Result: parse.Success, User: fmt.Sprintf("user%d", u), HasUser: true, Addr: ip,
			TLS: parse.TLSYes, File: "mail.log", Line: i + 1})
	}
	o := ipranges.Origin{Class: ipranges.Device, ASN: 64500, Country: "DE"}
	b.ReportAllocs()
	for b.Loop() {
		d, err := Open(filepath.Join(b.TempDir(), FileName))
		if err != nil {
			b.Fatal(err)
		}
		eng := rules.NewEngine(rules.DefaultConfig(), rules.Options{Baseline: d})
		for _, ev := range evs {
			eng.Observe(ev, o)
		}
		eng.Flush()
		if err := errors.Join(eng.Err(), d.Close()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestUnknownNamesWithoutQueries checks the answers for names with no rows
// when every user is loaded at once (attacker-chosen names ask without a
// query), through learning, a reopen and a forget.
func TestUnknownNamesWithoutQueries(t *testing.T) {
	d, p := open(t)
	addr := rules.Device{Facet: rules.FacetAddress, Value: "203.0.113.7"}
	if err := d.Learn("alice", addr, t0); err != nil {
		t.Fatal(err)
	}
	check := func(when string, d *DB, user string, want bool) {
		t.Helper()
		if ok, err := d.Known(user, addr); err != nil || ok != want {
			t.Errorf("%s: Known(%s) = %v, %v; want %v", when, user, ok, err, want)
		}
		if ok, err := d.HasUser(user); err != nil || ok != want {
			t.Errorf("%s: HasUser(%s) = %v, %v; want %v", when, user, ok, err, want)
		}
		_, n, err := d.Since(user)
		if err != nil || (n > 0) != want {
			t.Errorf("%s: Since(%s) logins %d, %v; want some: %v", when, user, n, err, want)
		}
	}
	check("pending", d, "alice", true)
	check("pending", d, "mallory", false)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	check("reopened", d2, "mallory", false)
	check("reopened", d2, "alice", true)
	if !d2.allUsers {
		t.Error("a baseline of one user was not loaded at once")
	}
	// A user learned after the load is found, before and after a flush.
	if err := d2.Learn("bob", addr, t0); err != nil {
		t.Fatal(err)
	}
	check("learned", d2, "bob", true)
	if _, err := d2.Forget("alice", addr.Value); err != nil {
		t.Fatal(err)
	}
	check("forgotten", d2, "alice", false)
	check("after a forget", d2, "bob", true)
}
