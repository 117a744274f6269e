package ipranges

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/mailaudit/mailaudit/internal/geoiptest"
)

// writeMMDB builds a small GeoIP database in dir.
func writeMMDB(t *testing.T, dir, file, dbType string, recs map[string]mmdbtype.Map) string {
	t.Helper()
	p := filepath.Join(dir, file)
	if err := geoiptest.Write(p, dbType, recs); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	country = geoiptest.Country
	asnRec  = geoiptest.ASN
)

// geoFixtures writes a country and an ASN database into dir.
func geoFixtures(t *testing.T, dir string) (countryDB, asnDB string) {
	countryDB = writeMMDB(t, dir, "GeoLite2-Country.mmdb", "GeoLite2-Country", map[string]mmdbtype.Map{
		"52.96.0.0/14":  country("IE"),
		"192.0.2.0/24":  country("DE"),
		"2001:db8::/32": country("US"),
		"10.0.0.0/8":    country("ZZ"),
	})
	asnDB = writeMMDB(t, dir, "GeoLite2-ASN.mmdb", "GeoLite2-ASN", map[string]mmdbtype.Map{
		"52.96.0.0/14":    asnRec(8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
		"198.51.100.0/24": asnRec(8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
		"203.0.113.0/24":  asnRec(15169, "GOOGLE"),
		"192.0.2.0/24":    asnRec(64496, "EXAMPLE-ISP"),
	})
	return countryDB, asnDB
}

func TestGeoIP(t *testing.T) {
	dir := t.TempDir()
	cdb, adb := geoFixtures(t, dir)
	tests := []struct {
		name string
		opts Options
	}{
		{"explicit files", Options{CountryDB: cdb, ASNDB: adb}},
		{"found in dirs", Options{GeoIPDirs: []string{filepath.Join(dir, "none"), dir}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadTest(t, tt.opts)
			checks := []struct {
				ip, country string
				asn         uint32
				class       Class
				conf        Confidence
				label       string
			}{
				// A list verdict keeps its class; GeoIP still fills in.
				{"52.98.204.101", "IE", 8075, Intermediary, High, LabelExchangeOnline},
				{"::ffff:52.98.204.101", "IE", 8075, Intermediary, High, LabelExchangeOnline},
				// No list: the ASN catalogue gives a Low verdict.
				{"198.51.100.9", "", 8075, Hosting, Low, "asn-microsoft"},
				{"203.0.113.9", "", 15169, Intermediary, Low, "asn-google"},
				// An ASN outside the catalogue: still a device.
				{"192.0.2.1", "DE", 64496, Device, Low, ""},
				{"2001:db8::1", "US", 0, Device, Low, ""},
				// Private space wins over everything; country still filled.
				{"10.1.1.1", "ZZ", 0, Private, High, "rfc1918"},
			}
			for _, ck := range checks {
				o := c.Classify(netip.MustParseAddr(ck.ip))
				if o.Country != ck.country || o.ASN != ck.asn || o.Class != ck.class || o.Confidence != ck.conf {
					t.Errorf("%s: got %s/%d/%s/%s, want %s/%d/%s/%s", ck.ip, o.Country, o.ASN, o.Class, o.Confidence, ck.country, ck.asn, ck.class, ck.conf)
				}
				if (ck.label == "") != (len(o.Labels) == 0) || (ck.label != "" && o.Labels[0].Name != ck.label) {
					t.Errorf("%s: labels %+v, want %q", ck.ip, o.Labels, ck.label)
				}
			}
			o := c.Classify(netip.MustParseAddr("198.51.100.9"))
			if l := o.Labels[0]; l.Prefix != "198.51.100.0/24" || l.Source != adb || l.Detail != "AS8075 MICROSOFT-CORP-MSN-AS-BLOCK" || o.ASOrg != "MICROSOFT-CORP-MSN-AS-BLOCK" {
				t.Errorf("ASN label %+v (org %q)", l, o.ASOrg)
			}
			var names []string
			for _, s := range c.Sources() {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, " "); got != "builtin geoip-country geoip-asn" {
				t.Errorf("sources %s", got)
			}
		})
	}
}

func TestGeoIPErrors(t *testing.T) {
	dir := t.TempDir()
	cdb, adb := geoFixtures(t, dir)
	corrupt := filepath.Join(dir, "corrupt.mmdb")
	os.WriteFile(corrupt, []byte("this is not a MaxMind database"), 0o644)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"corrupt country", Options{CountryDB: corrupt}, "GeoIP country database " + corrupt + ": "},
		{"missing asn", Options{CountryDB: cdb, ASNDB: filepath.Join(dir, "nope.mmdb")}, "GeoIP asn database: stat " + filepath.Join(dir, "nope.mmdb") + ": no such file or directory"},
		{"asn db as country", Options{CountryDB: adb}, "GeoIP country database " + adb + ": "},
		{"country db as asn", Options{ASNDB: cdb}, "GeoIP asn database " + cdb + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.CacheDir, tt.opts.GeoIPDirs = dir, []string{}
			_, _, err := Load(tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
	// A corrupt database found by the search is an error too.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "GeoLite2-ASN.mmdb"), []byte("junk"), 0o644)
	if _, _, err := Load(Options{CacheDir: bad, GeoIPDirs: []string{bad}}); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "GeoLite2-ASN.mmdb")) {
		t.Errorf("corrupt default database: %v", err)
	}
	// Nothing found: fine, no geo.
	c := loadTest(t, Options{GeoIPDirs: []string{t.TempDir()}})
	if o := c.Classify(netip.MustParseAddr("192.0.2.1")); o.Country != "" || o.ASN != 0 {
		t.Errorf("geo without databases: %+v", o)
	}
}

func TestFindGeoDBIP(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"dbip-country-lite-2026-10.mmdb", "dbip-country-lite-2026-11.mmdb", "dbip-asn-lite-2026-11.mmdb"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	if got := findGeo([]string{dir}, geoPatterns("country")); filepath.Base(got) != "dbip-country-lite-2026-11.mmdb" {
		t.Errorf("country: %s", got)
	}
	if got := findGeo([]string{dir}, geoPatterns("asn")); filepath.Base(got) != "dbip-asn-lite-2026-11.mmdb" {
		t.Errorf("asn: %s", got)
	}
}
