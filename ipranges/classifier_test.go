package ipranges

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadTest builds a Classifier without touching the user's cache or GeoIP
// directories.
func loadTest(t testing.TB, opts Options) *Classifier {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.GeoIPDirs == nil {
		opts.GeoIPDirs = []string{}
	}
	c, warns, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("warning: %v", w)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClassifyBuiltin(t *testing.T) {
	c := loadTest(t, Options{})
	tests := []struct {
		ip         string
		class      Class
		provider   string
		label      string // best label
		prefix     string // its prefix
		confidence Confidence
	}{
		{"52.98.204.101", Intermediary, "microsoft", LabelExchangeOnline, "52.96.0.0/14", High},
		{"52.98.207.109", Intermediary, "microsoft", LabelExchangeOnline, "52.96.0.0/14", High},
		{"::ffff:52.98.204.101", Intermediary, "microsoft", LabelExchangeOnline, "52.96.0.0/14", High},
		{"52.125.138.20", Intermediary, "microsoft", LabelOutlookMobile, "52.125.128.0/20", High},
		{"52.125.140.7", Intermediary, "microsoft", LabelOutlookMobile, "52.125.128.0/20", High},
		{"52.125.141.200", Intermediary, "microsoft", LabelOutlookMobile, "52.125.128.0/20", High},
		{"52.127.97.1", Intermediary, "microsoft", LabelOutlookMobile, "52.127.96.0/23", High},
		{"40.99.10.10", Intermediary, "microsoft", LabelExchangeOnline, "40.96.0.0/13", High},
		{"40.107.22.33", Hosting, "microsoft", LabelEOPRelay, "40.107.0.0/16", High},
		{"2a01:111:f403:c000::1", Hosting, "microsoft", LabelEOPRelay, "2a01:111:f403::/48", High},
		{"2603:1026:c0b::12", Intermediary, "microsoft", LabelExchangeOnline, "2603:1026::/36", High},
		{"10.1.2.3", Private, "", "rfc1918", "10.0.0.0/8", High},
		{"172.20.0.1", Private, "", "rfc1918", "172.16.0.0/12", High},
		{"192.168.1.1", Private, "", "rfc1918", "192.168.0.0/16", High},
		{"::ffff:192.168.1.1", Private, "", "rfc1918", "192.168.0.0/16", High},
		{"127.0.0.1", Private, "", "loopback", "127.0.0.0/8", High},
		{"::1", Private, "", "loopback", "::1/128", High},
		{"169.254.3.4", Private, "", "link-local", "169.254.0.0/16", High},
		{"fe80::1", Private, "", "link-local", "fe80::/10", High},
		{"fd12:3456::1", Private, "", "ula", "fc00::/7", High},
		{"100.64.1.1", Private, "", "cgnat", "100.64.0.0/10", High},
		{"100.127.255.255", Private, "", "cgnat", "100.64.0.0/10", High},
		{"0.0.0.0", Private, "", "unspecified", "0.0.0.0/32", High},
		{"::", Private, "", "unspecified", "::/128", High},
		{"100.128.0.1", Device, "", "", "", Low},
		{"203.0.113.45", Device, "", "", "", Low},
		{"2001:db8::45", Device, "", "", "", Low},
		{"52.100.0.1", Hosting, "microsoft", LabelEOPRelay, "52.100.0.0/14", High},
		{"52.238.78.88", Hosting, "microsoft", LabelEOPRelay, "52.238.78.88/32", High},
		{"52.95.255.255", Device, "", "", "", Low},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			o := c.Classify(netip.MustParseAddr(tt.ip))
			if o.Class != tt.class || o.Provider != tt.provider || o.Confidence != tt.confidence {
				t.Errorf("got %s/%q/%s, want %s/%q/%s", o.Class, o.Provider, o.Confidence, tt.class, tt.provider, tt.confidence)
			}
			if tt.label == "" {
				if len(o.Labels) != 0 {
					t.Errorf("labels %+v, want none", o.Labels)
				}
				return
			}
			if len(o.Labels) == 0 || o.Labels[0].Name != tt.label || o.Labels[0].Prefix != tt.prefix {
				t.Fatalf("labels %+v, want first %s %s", o.Labels, tt.label, tt.prefix)
			}
			if o.Labels[0].Source == "" {
				t.Errorf("label without source: %+v", o.Labels[0])
			}
		})
	}
}

func TestClassifyProducts(t *testing.T) {
	c := loadTest(t, Options{})
	for ip, want := range map[string]string{
		"52.98.204.101": "Exchange Online (new Outlook, Outlook.com sync)",
		"52.125.138.20": "Outlook for iOS/Android",
		"40.107.22.33":  "Exchange Online Protection relay (unexpected AUTH)",
	} {
		if got := c.Classify(netip.MustParseAddr(ip)).Product; got != want {
			t.Errorf("%s: product %q, want %q", ip, got, want)
		}
	}
}

func TestClassifyInvalid(t *testing.T) {
	c := loadTest(t, Options{})
	if o := c.Classify(netip.Addr{}); !o.IsZero() {
		t.Errorf("invalid addr: %+v, want zero", o)
	}
}

func TestClassifyZone(t *testing.T) {
	c := loadTest(t, Options{})
	a := c.Classify(netip.MustParseAddr("fe80::1%eth0"))
	b := c.Classify(netip.MustParseAddr("fe80::1"))
	if a.Class != Private || a.Labels[0].Prefix != b.Labels[0].Prefix {
		t.Errorf("zoned %+v, plain %+v", a, b)
	}
}

func TestSkipBuiltin(t *testing.T) {
	c := loadTest(t, Options{SkipBuiltin: true})
	if o := c.Classify(netip.MustParseAddr("52.98.204.101")); o.Class != Device {
		t.Errorf("without built-in table: %s, want device", o.Class)
	}
	if len(c.Sources()) != 0 {
		t.Errorf("sources %+v, want none", c.Sources())
	}
}

// Every matching label is reported, best-ranked first, and a user label
// outranks the lists.
func TestAllLabelsRanked(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "own.txt")
	if err := os.WriteFile(list, []byte(strings.Join([]string{
		"52.98.0.0/16 wide-net",           // less specific than builtin, but user labels win
		"52.125.138.0/23 azure-cloud",     // add to a built-in label
		"52.96.0.0/12 ms-exchange-online", // a second, wider exchange entry
		"198.51.100.0/24 office-vpn - device Our office VPN",
	}, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	c := loadTest(t, Options{CacheDir: dir, UserLists: []string{list}})
	names := func(o Origin) string {
		var s []string
		for _, l := range o.Labels {
			s = append(s, l.Name+" "+l.Prefix)
		}
		return strings.Join(s, ", ")
	}
	tests := []struct{ ip, class, labels string }{
		{"52.98.204.101", "hosting", "wide-net 52.98.0.0/16, ms-exchange-online 52.96.0.0/14, ms-exchange-online 52.96.0.0/12"},
		{"52.125.138.20", "intermediary", "ms-outlook-mobile 52.125.128.0/20, azure-cloud 52.125.138.0/23"},
		{"198.51.100.7", "device", "office-vpn 198.51.100.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			o := c.Classify(netip.MustParseAddr(tt.ip))
			if string(o.Class) != tt.class || names(o) != tt.labels {
				t.Errorf("got %s [%s]\nwant %s [%s]", o.Class, names(o), tt.class, tt.labels)
			}
		})
	}
	o := c.Classify(netip.MustParseAddr("198.51.100.7"))
	if o.Product != "Our office VPN" || o.Confidence != High || o.Labels[0].Source != list {
		t.Errorf("user label verdict %+v", o)
	}
}

func TestClassifyCacheStable(t *testing.T) {
	c := loadTest(t, Options{})
	a := netip.MustParseAddr("52.98.204.101")
	first := c.Classify(a)
	second := c.Classify(netip.MustParseAddr("::ffff:52.98.204.101"))
	if len(first.Labels) == 0 || &first.Labels[0] != &second.Labels[0] {
		t.Errorf("second lookup not served from the cache")
	}
	// A miss on another address must not disturb the cached labels.
	c.Classify(netip.MustParseAddr("40.99.10.10"))
	if again := c.Classify(a); again.Labels[0].Prefix != "52.96.0.0/14" {
		t.Errorf("cached labels changed: %+v", again.Labels)
	}
}

func TestClassifyZeroAllocsOnHit(t *testing.T) {
	c := loadTest(t, Options{})
	a := netip.MustParseAddr("52.98.204.101")
	c.Classify(a)
	if n := testing.AllocsPerRun(100, func() { c.Classify(a) }); n != 0 {
		t.Errorf("Classify on a cache hit: %v allocs, want 0", n)
	}
}

func BenchmarkClassifyHit(b *testing.B) {
	c := loadTest(b, Options{})
	addrs := []netip.Addr{netip.MustParseAddr("52.98.204.101"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2603:1026:c0b::12")}
	for _, a := range addrs {
		c.Classify(a)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Classify(addrs[i%len(addrs)])
		i++
	}
}

func BenchmarkClassifyMiss(b *testing.B) {
	c := loadTest(b, Options{})
	b.ReportAllocs()
	var n uint32
	for b.Loop() {
		// A fresh address every time: 52.96.0.0/14 (exchange) and beyond.
		n++
		c.Classify(netip.AddrFrom4([4]byte{52, 96 + byte(n>>16&7), byte(n >> 8), byte(n)}))
		if len(c.cache) > 1<<16 {
			clear(c.cache)
		}
	}
}

// The verdict cache stays within its bound and its answers stay right.
func TestClassifyCacheBounded(t *testing.T) {
	c := loadTest(t, Options{})
	c.cacheMax = 4
	for i := range 50 {
		a := netip.AddrFrom4([4]byte{52, 96, 0, byte(i)})
		if o := c.Classify(a); o.Labels[0].Name != LabelExchangeOnline {
			t.Fatalf("%s: %+v", a, o)
		}
		if len(c.cache) > 4 {
			t.Fatalf("%d cached verdicts, bound 4", len(c.cache))
		}
	}
	if maxCached < 1<<10 || maxCached > 1<<20 {
		t.Errorf("maxCached %d", maxCached)
	}
}

// A cached Microsoft 365 list replaces only the built-in rows whose
// labels it supplies: one without Exchange Online keeps the built-in ones.
func TestCachedO365SupersedesByLabel(t *testing.T) {
	dir := t.TempDir()
	f := &cacheFile{Source: sourceO365, URL: "https://endpoints.example/endpoints/Worldwide", Date: "2026083100"}
	if err := writeCacheFile(dir, f, []entry{{Prefix: netip.MustParsePrefix("13.107.136.0/22"), Label: LabelMicrosoft365}}); err != nil {
		t.Fatal(err)
	}
	c := loadTest(t, Options{CacheDir: dir})
	if o := c.Classify(netip.MustParseAddr("52.98.204.101")); o.Class != Intermediary || o.Labels[0].Date != builtinO365Date {
		t.Errorf("52.98.204.101: %+v", o)
	}
	if err := writeCacheFile(dir, f, []entry{{Prefix: netip.MustParsePrefix("52.96.0.0/14"), Label: LabelExchangeOnline}}); err != nil {
		t.Fatal(err)
	}
	c = loadTest(t, Options{CacheDir: dir})
	if o := c.Classify(netip.MustParseAddr("40.99.10.10")); o.Class != Device {
		t.Errorf("40.99.10.10 after a list without it: %+v", o)
	}
	if b := c.Sources()[0]; b.Name != "builtin" || b.Prefixes != len(builtinTable())-27 || b.Date != builtinO365Date {
		t.Errorf("builtin source %+v, want the EOP and Outlook mobile rows", b)
	}
	if err := writeCacheFile(dir, f, []entry{{Prefix: netip.MustParsePrefix("52.96.0.0/14"), Label: LabelExchangeOnline}, {Prefix: netip.MustParsePrefix("40.107.0.0/16"), Label: LabelEOPRelay}}); err != nil {
		t.Fatal(err)
	}
	c = loadTest(t, Options{CacheDir: dir})
	if b := c.Sources()[0]; b.Prefixes != 2 || b.Date != builtinMobileDate {
		t.Errorf("builtin source %+v, want the Outlook mobile rows", b)
	}
}
