package ipranges

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadList(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "user-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadList("user-list.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	want := []ListEntry{
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Label: "office-vpn", Class: Device, Product: "Office VPN (Berlin)", Line: 2},
		{Prefix: netip.MustParsePrefix("203.0.113.7/32"), Label: "backup-mx", Provider: "example", Class: Hosting, Line: 3},
		{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), Label: "fetcher", Provider: "fastmail", Class: Intermediary, Product: "Fastmail fetcher", Line: 4},
		{Prefix: netip.MustParsePrefix("52.125.138.0/23"), Label: "azure-cloud", Line: 5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// The line format tolerates what editors and other tools produce: a BOM,
// CRLF line ends, tabs between fields, comments after an entry, and
// IPv4-mapped CIDRs.
func TestReadListFormats(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"bom", "\uFEFF10.0.0.0/8 vpn\n", "10.0.0.0/8 vpn 1"},
		{"bom comment", "\uFEFF# list\n10.0.0.0/8 vpn\n", "10.0.0.0/8 vpn 2"},
		{"crlf", "# x\r\n10.0.0.0/8 vpn\r\n\r\n11.0.0.0/8 vpn2 - device Office\r\n", "10.0.0.0/8 vpn 2|11.0.0.0/8 vpn2 4"},
		{"tabs", "10.0.0.0/8\tvpn\t-\tdevice\tOffice VPN\n", "10.0.0.0/8 vpn 1"},
		{"trailing comment", "10.0.0.0/8 vpn # ours\n", "10.0.0.0/8 vpn 1"},
		{"mapped", "::ffff:10.0.0.0/104 vpn\n::ffff:192.0.2.1 host\n", "10.0.0.0/8 vpn 1|192.0.2.1/32 host 2"},
		{"no final newline", "10.0.0.0/8 vpn", "10.0.0.0/8 vpn 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := ReadList("l.txt", strings.NewReader(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, fmt.Sprintf("%s %s %d", e.Prefix, e.Label, e.Line))
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("got %q, want %q", strings.Join(got, "|"), tt.want)
			}
		})
	}
}

func TestReadListErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"one field", "# x\n10.0.0.0/8\n", `l.txt:2: "10.0.0.0/8": want CIDR LABEL [PROVIDER [CLASS [PRODUCT…]]]`},
		{"bad cidr", "10.0.0.0/33 x\n", `l.txt:1: "10.0.0.0/33": bad CIDR`},
		{"bad addr", "\n\n10.0.0.300 x\n", `l.txt:3: "10.0.0.300": bad address`},
		{"bad label", "10.0.0.0/8 a/b\n", `l.txt:1: "a/b": bad label (letters, digits, . _ : - only)`},
		{"bad provider", "10.0.0.0/8 a b$\n", `l.txt:1: "b$": bad provider (letters, digits, . _ : - only)`},
		{"bad class", "10.0.0.0/8 a b cloud\n", `l.txt:1: "cloud": bad class (want intermediary, hosting, private or device)`},
		{"control", "10.0.0.0/8 a b hosting bad\x1b[31m\n", `l.txt:1: invalid UTF-8 or control character`},
		{"bad utf8", "10.0.0.0/8 a b hosting \xff\n", `l.txt:1: invalid UTF-8 or control character`},
		{"host bits", "10.1.2.3/8 vpn\n", `l.txt:1: "10.1.2.3/8": host bits set (10.0.0.0/8?)`},
		{"mapped host bits", "::ffff:10.1.0.0/104 vpn\n", `l.txt:1: "::ffff:10.1.0.0/104": host bits set (10.0.0.0/8?)`},
		{"mapped too short", "::ffff:0:0/95 vpn\n", `l.txt:1: "::ffff:0:0/95": unsupported prefix`},
		// Broader than /8 or /16 would silence the attack rules for a
		// quarter of the Internet or more (issue 10).
		{"whole internet", "0.0.0.0/0 all microsoft intermediary\n", `l.txt:1: "0.0.0.0/0": broader than /8 (a list entry may not cover that much of the Internet)`},
		{"v4 /7", "10.0.0.0/8 ok\n2.0.0.0/7 x\n", `l.txt:2: "2.0.0.0/7": broader than /8 (a list entry may not cover that much of the Internet)`},
		{"v6 /3", "2000::/3 x\n", `l.txt:1: "2000::/3": broader than /16 (a list entry may not cover that much of the Internet)`},
		{"mapped /96", "::ffff:0.0.0.0/96 x\n", `l.txt:1: "::ffff:0.0.0.0/96": broader than /8 (a list entry may not cover that much of the Internet)`},
		{"bom elsewhere", "10.0.0.0/8 vpn\n\uFEFF11.0.0.0/8 x\n", `l.txt:2: "\ufeff11.0.0.0/8": bad CIDR`},
		{"too long", "10.0.0.0/8 a b hosting " + strings.Repeat("x", 70000) + "\n", `l.txt:1: bufio.Scanner: token too long`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadList("l.txt", strings.NewReader(tt.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want *ParseError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestLoadUserListErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct{ name, text, want string }{
		{"builtin redefined", "10.0.0.0/8 ms-exchange-online evil intermediary\n", `:1: "ms-exchange-online": built-in label: add prefixes to it without provider, class or product, or choose another name`},
		{"conflict", "10.0.0.0/8 vpn - device\n11.0.0.0/8 vpn - hosting\n", `:2: "vpn": label already defined differently`},
		{"bad line", "10.0.0.0/8 vpn\nnonsense here\n", `:2: "nonsense": bad address`},
		{"two own labels", "10.0.0.0/8 vpn\n10.0.0.0/8 lab\n", `:2: "10.0.0.0/8": labelled lab here but vpn at `},
		{"conflict after use", "10.0.0.0/8 vpn\n11.0.0.0/8 vpn - device\n12.0.0.0/8 vpn - hosting\n", `:3: "vpn": label already defined differently`},
		{"host bits", "10.0.0.0/8 vpn\n203.0.113.7/2 vpn\n", `:2: "203.0.113.7/2": host bits set (192.0.0.0/2?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tt.name, " ", "-")+".txt", tt.text)
			_, _, err := Load(Options{CacheDir: dir, UserLists: []string{p}, NoGeoIP: true})
			if err == nil || !strings.HasPrefix(err.Error(), p+tt.want) {
				t.Errorf("error\n got %v\nwant %s", err, p+tt.want)
			}
		})
	}
	if _, _, err := Load(Options{CacheDir: dir, UserLists: []string{filepath.Join(dir, "missing.txt")}, NoGeoIP: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing list: %v", err)
	}
}

// Repeated entries count once, a label may be used before the line that
// defines it, and the same prefix may carry a user label and a built-in one.
func TestLoadUserListMerging(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("192.0.2.0/24 vpn\n192.0.2.0/24 vpn\n198.51.100.0/24 vpn - device Office VPN\n52.125.138.0/23 azure-cloud\n"), 0o644)
	os.WriteFile(b, []byte("::ffff:192.0.2.0/120 vpn\n52.125.138.0/23 partner acme intermediary\n"), 0o644)
	c := loadTest(t, Options{CacheDir: dir, UserLists: []string{a, b}})
	o := c.Classify(netip.MustParseAddr("192.0.2.3"))
	if o.Class != Device || o.Product != "Office VPN" || len(o.Labels) != 1 {
		t.Errorf("192.0.2.3: %+v, want one device label", o)
	}
	o = c.Classify(netip.MustParseAddr("52.125.138.20"))
	var names []string
	for _, l := range o.Labels {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, " "); o.Provider != "acme" || got != "partner ms-outlook-mobile azure-cloud" {
		t.Errorf("52.125.138.20: %s %s", o.Provider, got)
	}
	for _, s := range c.Sources() {
		if want := map[string]int{a: 3, b: 1}[s.Name]; want != 0 && s.Prefixes != want {
			t.Errorf("%s: %d prefixes, want %d", s.Name, s.Prefixes, want)
		}
	}
}

// TestCacheRefusesBroadPrefixes: a range cache (or a downloaded feed)
// with a prefix broader than /8 or /16 is refused, naming the file and the
// JSON path, so the built-in table covers for it.
func TestCacheRefusesBroadPrefixes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "aws.json")
	data := `{"source":"aws","url":"u","date":"d","prefixes":[{"prefix":"52.94.0.0/22","label":"aws"},{"prefix":"0.0.0.0/0","label":"ms-exchange-online"}]}`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := readCacheFile(path, knownLabels())
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "$.prefixes[1].prefix") || !strings.Contains(err.Error(), "broader than /8") {
		t.Fatalf("error %v, want one naming %s, $.prefixes[1].prefix and broader than /8", err, path)
	}
}
