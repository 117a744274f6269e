package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/mailaudit/mailaudit/internal/geoiptest"
)

// TestScanGeoIP runs scan with GeoIP databases: events carry country and
// ASN, an ASN from the catalogue makes a (low-confidence) intermediary,
// and two countries within minutes raise impossible-travel.
func TestScanGeoIP(t *testing.T) {
	dir := t.TempDir()
	cdb, adb := filepath.Join(dir, "GeoLite2-Country.mmdb"), filepath.Join(dir, "GeoLite2-ASN.mmdb")
	if err := geoiptest.Write(cdb, "GeoLite2-Country", map[string]mmdbtype.Map{
		"192.0.2.0/24":   geoiptest.Country("DE"),
		"2001:db8::/32":  geoiptest.Country("US"),
		"203.0.113.0/24": geoiptest.Country("US"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := geoiptest.Write(adb, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"192.0.2.0/24":   geoiptest.ASN(64496, "EXAMPLE-ISP"),
		"203.0.113.0/24": geoiptest.ASN(15169, "GOOGLE"),
	}); err != nil {
		t.Fatal(err)
	}
	log := writeFile(t, dir, "mail.log", ""+
		"Nov 20 08:00:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.10, mpid=1, TLS, session=<a1>\n"+
		"Nov 20 08:10:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=2001:db8::5, lip=2001:db8::10, mpid=2, TLS, session=<a2>\n"+
		"Nov 20 08:20:00 mx1 dovecot: pop3-login: Login: user=<carol@example.org>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.10, mpid=3, TLS, session=<c1>\n")
	geo := []string{"scan", "--cache-dir", filepath.Join(dir, "cache"), "--year", "2026", "--tz", "UTC", "--progress", "never",
		"--geoip-country", cdb, "--geoip-asn", adb}

	var out, errb bytes.Buffer
	if code := Main(append(geo, "--events", "--format", "jsonl", log), nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	evs := jsonlEvents(t, out.String())
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	want := []struct {
		country, class, provider string
		asn                      float64
	}{
		{"DE", "device", "", 64496},
		{"US", "device", "", 0},
		{"US", "intermediary", "google", 15169},
	}
	for i, w := range want {
		o, _ := evs[i]["origin"].(map[string]any)
		asn, _ := o["asn"].(float64)
		provider, _ := o["provider"].(string)
		if o["country"] != w.country || o["class"] != w.class || provider != w.provider || asn != w.asn {
			t.Errorf("event %d origin = %v, want country %s class %s provider %q asn %v", i+1, o, w.country, w.class, w.provider, w.asn)
		}
	}

	out.Reset()
	if code := Main(append(geo, "--format", "jsonl", log), nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rules := map[string]bool{}
	for _, f := range jsonlEvents(t, out.String()) {
		rules[f["rule"].(string)] = true
	}
	for _, r := range []string{"impossible-travel", "cloud-intermediary"} {
		if !rules[r] {
			t.Errorf("no %s finding in:\n%s", r, out.String())
		}
	}
}
