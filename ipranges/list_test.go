package ipranges

import (
	"errors"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tt.name, " ", "-")+".txt", tt.text)
			_, _, err := Load(Options{CacheDir: dir, UserLists: []string{p}, NoGeoIP: true})
			if err == nil || err.Error() != p+tt.want {
				t.Errorf("error\n got %v\nwant %s", err, p+tt.want)
			}
		})
	}
	if _, _, err := Load(Options{CacheDir: dir, UserLists: []string{filepath.Join(dir, "missing.txt")}, NoGeoIP: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing list: %v", err)
	}
}
