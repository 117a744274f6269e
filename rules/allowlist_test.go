package rules

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailaudit/mailaudit/ipranges"
)

const allowText = `# office and VPN
203.0.113.7
198.51.100.0/24          # the office
2001:db8:1::/48
alice@example.org 192.0.2.0/28
provider:microsoft   bob@example.org   # Outlook mobile, knowingly
asn:AS64500 carol@example.org
country:de dave@example.org
user:odd/name 192.0.2.200
::ffff:192.0.2.128/121
`

func TestAllowlistAllows(t *testing.T) {
	a, err := ParseAllowlist(strings.NewReader(allowText), "allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 9 {
		t.Errorf("Len = %d, want 9", a.Len())
	}
	ms := ipranges.Origin{Class: ipranges.Intermediary, Provider: "Microsoft"}
	tests := []struct {
		name string
		user string
		addr string
		o    ipranges.Origin
		want bool
	}{
		{"listed address", "anyone", "203.0.113.7", devDE, true},
		{"next address", "anyone", "203.0.113.8", devDE, false},
		{"network", "anyone", "198.51.100.250", devDE, true},
		{"v4-mapped client in a v4 network", "anyone", "::ffff:198.51.100.1", devDE, true},
		{"v6 network", "anyone", "2001:db8:1:ffff::1", devDE, true},
		{"v6 outside", "anyone", "2001:db8:2::1", devDE, false},
		{"per-user network, that user", "alice@example.org", "192.0.2.15", devDE, true},
		{"per-user network, user in other case", "Alice@Example.ORG", "192.0.2.15", devDE, true},
		{"per-user network, other user", "bob@example.org", "192.0.2.15", devDE, false},
		{"per-user network, outside", "alice@example.org", "192.0.2.16", devDE, false},
		{"provider for its user", "bob@example.org", "52.98.1.1", ms, true},
		{"provider for another user", "alice@example.org", "52.98.1.1", ms, false},
		{"provider entry needs the provider", "bob@example.org", "52.98.1.1", devDE, false},
		{"asn", "carol@example.org", "100.64.0.1", ipranges.Origin{ASN: 64500}, true},
		{"other asn", "carol@example.org", "100.64.0.1", ipranges.Origin{ASN: 64501}, false},
		{"country", "dave@example.org", "100.64.0.1", ipranges.Origin{Country: "DE"}, true},
		{"unknown country", "dave@example.org", "100.64.0.1", ipranges.Origin{}, false},
		{"user: prefix", "odd/name", "192.0.2.200", devDE, true},
		{"mapped network entry", "anyone", "192.0.2.130", devDE, true},
		{"loopback always", "anyone", "127.0.0.1", ipranges.Origin{}, true},
		{"v6 loopback always", "anyone", "::1", ipranges.Origin{}, true},
		{"empty user gets global entries only", "", "192.0.2.15", devDE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Allows(tt.user, netip.MustParseAddr(tt.addr), tt.o); got != tt.want {
				t.Errorf("Allows(%q, %s) = %v, want %v", tt.user, tt.addr, got, tt.want)
			}
		})
	}
	var none *Allowlist
	if !none.Allows("x", netip.MustParseAddr("192.0.2.1"), devDE) || none.Len() != 0 {
		t.Error("a nil Allowlist must allow everything")
	}
	empty, err := ParseAllowlist(strings.NewReader("# nothing\n\n"), "empty")
	if err != nil || empty.Allows("x", netip.MustParseAddr("192.0.2.1"), devDE) {
		t.Errorf("an empty Allowlist allows: %v", err)
	}
}

func TestAllowlistErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"bad prefix length", "# c\n\n203.0.113.0/33\n", `allow.txt:3: bad allowlist entry "203.0.113.0/33": bad network`},
		{"bad address", "10.0.0.300\n", `allow.txt:1: bad allowlist entry "10.0.0.300": bad address`},
		{"bad v6", "2001:db8:::1\n", `allow.txt:1: bad allowlist entry "2001:db8:::1": bad address`},
		{"two users", "alice bob 192.0.2.1\n", `allow.txt:1: bad allowlist entry "alice bob 192.0.2.1": more than one user`},
		{"user without matcher", "ok 192.0.2.1\nalice@example.org\n", `allow.txt:2: bad allowlist entry "alice@example.org": no address`},
		{"unknown kind", "prov:microsoft\n", `allow.txt:1: bad allowlist entry "prov:microsoft": unknown kind "prov:"`},
		{"empty provider", "provider: alice\n", `allow.txt:1: bad allowlist entry "provider: alice": empty provider`},
		{"bad asn", "asn:ABC\n", `allow.txt:1: bad allowlist entry "asn:ABC": bad ASN "ABC"`},
		{"bad country", "country:Germany\n", `allow.txt:1: bad allowlist entry "country:Germany": bad country "Germany"`},
		{"zone", "fe80::1%eth0\n", `allow.txt:1: bad allowlist entry "fe80::1%eth0"`},
		// A typo for /32 must not allow a quarter of IPv4 (issue 10).
		{"host bits set", "198.51.100.7/2\n", `allow.txt:1: bad allowlist entry "198.51.100.7/2": host bits set (192.0.0.0/2?)`},
		{"host bits set v6", "2001:db8::1/32\n", `allow.txt:1: bad allowlist entry "2001:db8::1/32": host bits set (2001:db8::/32?)`},
		{"host bits set mapped", "::ffff:192.0.2.129/120\n", `allow.txt:1: bad allowlist entry "::ffff:192.0.2.129/120": host bits set (192.0.2.0/24?)`},
		{"unknown provider", "provider:mircosoft bob\n", `allow.txt:1: bad allowlist entry "provider:mircosoft bob": unknown provider "mircosoft" (known: akamai, amazon, google, microsoft, proton, vk)`},
		{"line too long", strings.Repeat("a", 70000) + "\n", `allow.txt:1: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAllowlist(strings.NewReader(tt.text), "allow.txt")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant prefix %s", err, tt.want)
			}
		})
	}
	_, err := ParseAllowlist(strings.NewReader("x/y\n"), "allow.txt")
	var ae *AllowlistError
	if !errors.As(err, &ae) || ae.Line != 1 || ae.File != "allow.txt" {
		t.Errorf("error %v is not an *AllowlistError at line 1", err)
	}
}

// TestAllowlistProviders: a provider defined by the user's own range list
// is known when it is passed in.
func TestAllowlistProviders(t *testing.T) {
	if _, err := ParseAllowlist(strings.NewReader("provider:Acme-VPN alice\n"), "allow.txt", "acme-vpn"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAllowlist(strings.NewReader("provider:acme-vpn alice\n"), "allow.txt"); err == nil {
		t.Fatal("provider of no list accepted")
	}
}

func TestLoadAllowlist(t *testing.T) {
	p := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(p, []byte("192.0.2.0/24\nbad/entry\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadAllowlist(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: ") {
		t.Fatalf("err = %v, want %s:2", err, p)
	}
	if _, err := LoadAllowlist(p + ".missing"); err == nil {
		t.Fatal("missing file: no error")
	}
}
