package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/spf13/pflag"
)

func TestRangesLookup(t *testing.T) {
	cache := t.TempDir()
	base := []string{"ranges", "lookup", "--no-geoip", "--cache-dir", cache}
	tests := []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout, in order
		err  string   // substring of stderr
	}{
		{"exchange online", []string{"52.98.204.101"}, 0, []string{
			"52.98.204.101: intermediary, microsoft, Exchange Online (new Outlook, Outlook.com sync) (confidence high)\n",
			"  * ms-exchange-online 52.96.0.0/14 (Exchange Optimize/Allow, ids 1 and 2)\n",
			"      from https://endpoints.office.com/endpoints/Worldwide, 2026073100\n",
		}, ""},
		{"several", []string{"52.125.140.7", "40.107.22.33", "::ffff:52.98.207.109", "2603:1026:c0b::12", "192.168.1.10", "203.0.113.45"}, 0, []string{
			"52.125.140.7: intermediary, microsoft, Outlook for iOS/Android (confidence high)",
			"40.107.22.33: hosting, microsoft, Exchange Online Protection relay (unexpected AUTH) (confidence high)",
			"::ffff:52.98.207.109: intermediary, microsoft, Exchange Online",
			"2603:1026:c0b::12: intermediary, microsoft, Exchange Online",
			"  * ms-exchange-online 2603:1026::/36",
			"192.168.1.10: private, private network (RFC 1918) (confidence high)",
			"  * rfc1918 192.168.0.0/16",
			"203.0.113.45: device (confidence low)\n  no list matched\n",
		}, ""},
		{"bad ip", []string{"52.98.204.101", "52.98.204"}, 2, nil, `mailaudit: lookup: "52.98.204" is not an IP address`},
		{"no ip", nil, 2, nil, "needs at least one IP address"},
		{"bad list", []string{"--ranges", "testdata-missing.txt", "1.2.3.4"}, 3, nil, "testdata-missing.txt: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runMain(append(append([]string{}, base...), tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, errs)
			}
			rest := out
			for _, s := range tt.out {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("stdout lacks (in order) %q:\n%s", s, out)
				}
				rest = rest[i+len(s):]
			}
			if !strings.Contains(errs, tt.err) {
				t.Errorf("stderr %q, want %q", errs, tt.err)
			}
			if tt.code != 0 && out != "" {
				t.Errorf("stdout on error: %q", out)
			}
		})
	}
}

func TestRangesLookupJSON(t *testing.T) {
	code, out, errs := runMain("ranges", "lookup", "--json", "--no-geoip", "--cache-dir", t.TempDir(), "52.125.141.200")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		IP     string          `json:"ip"`
		Origin ipranges.Origin `json:"origin"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.IP != "52.125.141.200" || got.Origin.Class != ipranges.Intermediary || got.Origin.Labels[0].Name != "ms-outlook-mobile" {
		t.Errorf("got %+v", got)
	}
}

func TestRangesUserList(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "own.txt")
	os.WriteFile(good, []byte("# office\n198.51.100.0/24 office-vpn - device Office VPN\n"), 0o644)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("198.51.100.0/24 office-vpn\n198.51.100.0/33 x\n"), 0o644)

	code, out, errs := runMain("ranges", "lookup", "--no-geoip", "--cache-dir", dir, "--ranges", good, "198.51.100.9")
	if code != 0 || !strings.Contains(out, "198.51.100.9: device, Office VPN (confidence high)") || !strings.Contains(out, "from "+good) {
		t.Errorf("exit %d, stdout %s, stderr %s", code, out, errs)
	}
	code, out, _ = runMain("ranges", "list", "--no-geoip", "--cache-dir", dir, "--ranges", good)
	if code != 0 || !strings.Contains(out, good) {
		t.Errorf("list with a user list: exit %d\n%s", code, out)
	}
	code, _, errs = runMain("ranges", "list", "--no-geoip", "--cache-dir", dir, "--ranges", good, "--ranges", bad)
	if want := "mailaudit: " + bad + `:2: "198.51.100.0/33": bad CIDR` + "\n"; code != 3 || errs != want {
		t.Errorf("bad list: exit %d, stderr %q, want %q", code, errs, want)
	}
}

// rangesFeedServer serves minimal feeds in the publishers' schemas.
type rangesFeedServer struct {
	mu     sync.Mutex
	fail   map[string]int
	calls  map[string]int
	srv    *httptest.Server
	client []string
}

func newRangesFeedServer(t *testing.T) *rangesFeedServer {
	f := &rangesFeedServer{fail: map[string]int{}, calls: map[string]int{}}
	body := map[string]string{
		"/version/Worldwide":   `{"instance":"Worldwide","latest":"2026113000"}`,
		"/endpoints/Worldwide": `[{"id":1,"serviceArea":"Exchange","ips":["52.96.0.0/14","40.96.0.0/13"],"category":"Optimize","required":true},{"id":10,"serviceArea":"Exchange","ips":["40.107.0.0/16"],"tcpPorts":"25","category":"Allow","required":true}]`,
		"/page":                `<a href="/files/ServiceTags_Public_20261123.json">download</a>`,
		"/files/ServiceTags_Public_20261123.json": `{"changeNumber":400,"cloud":"Public","values":[{"name":"AzureCloud.westeurope","properties":{"addressPrefixes":["52.125.140.0/23","20.50.0.0/16"]}},{"name":"AzureCloud.centralindia","properties":{"addressPrefixes":["40.100.24.0/26"]}}]}`,
		"/goog.json":  `{"syncToken":"1","creationTime":"2026-11-20T00:00:00","prefixes":[{"ipv4Prefix":"209.85.128.0/17"}]}`,
		"/cloud.json": `{"syncToken":"1","creationTime":"2026-11-20T00:00:00","prefixes":[{"ipv4Prefix":"34.1.208.0/20","scope":"africa-south1"}]}`,
		"/aws.json":   `{"syncToken":"1","createDate":"2026-11-20-00-00-00","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"}],"ipv6_prefixes":[]}`,
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls[r.URL.Path]++
		if id := r.URL.Query().Get("clientrequestid"); id != "" {
			f.client = append(f.client, id)
		}
		if s := f.fail[r.URL.Path]; s != 0 {
			http.Error(w, http.StatusText(s), s)
			return
		}
		b, ok := body[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(b))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *rangesFeedServer) args(cache string) []string {
	u := f.srv.URL
	return []string{"ranges", "update", "--cache-dir", cache, "--o365-url", u, "--azure-page-url", u + "/page",
		"--google-url", u + "/goog.json", "--google-cloud-url", u + "/cloud.json", "--aws-url", u + "/aws.json"}
}

func TestRangesUpdate(t *testing.T) {
	fs := newRangesFeedServer(t)
	cache := filepath.Join(t.TempDir(), "cache")

	code, out, errs := runMain(fs.args(cache)...)
	if code != 0 || errs != "" {
		t.Fatalf("update: exit %d, stderr %s", code, errs)
	}
	for _, s := range []string{
		"SOURCE ", "o365          updated  2026113000", "azure         updated  20261123 (changeNumber 400)  3",
		"google        updated", "google-cloud  updated", "aws           updated  2026-11-20-00-00-00",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("update output lacks %q:\n%s", s, out)
		}
	}
	if len(fs.client) != 2 || fs.client[0] != fs.client[1] {
		t.Errorf("clientrequestid sent: %v", fs.client)
	}

	// list shows the downloaded sources; lookup uses them.
	code, out, _ = runMain("ranges", "list", "--no-geoip", "--cache-dir", cache)
	for _, s := range []string{"builtin", "o365          2026113000", "azure", fs.srv.URL + "/files/ServiceTags_Public_20261123.json", "aws"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("list lacks %q (exit %d):\n%s", s, code, out)
		}
	}
	// The counts: the feed replaced the built-in Exchange and EOP rows,
	// leaving the two Outlook mobile prefixes Microsoft documents in prose.
	for _, re := range []string{
		`(?m)^builtin +docs commit \S+ \(undated prose table, row 10\) +2 +- `,
		`(?m)^o365 +2026113000 +3 +2`, `(?m)^azure +20261123 \(changeNumber 400\) +3 +2`,
		`(?m)^google +2026-11-20T00:00:00 +1 +2`, `(?m)^google-cloud +2026-11-20T00:00:00 +1 +2`, `(?m)^aws +2026-11-20-00-00-00 +1 +2`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("list does not match %s:\n%s", re, out)
		}
	}
	code, out, _ = runMain("ranges", "lookup", "--no-geoip", "--cache-dir", cache, "20.50.1.1", "52.125.141.200", "3.5.141.1", "40.100.24.10")
	for _, s := range []string{
		"20.50.1.1: hosting, microsoft, Azure (customer VM or first-party service) (confidence medium)",
		"(AzureCloud.westeurope)",
		"52.125.141.200: intermediary, microsoft, Outlook for iOS/Android",
		"    azure-cloud 52.125.140.0/23 (AzureCloud.westeurope)",
		"3.5.141.1: hosting, amazon, Amazon AWS (confidence medium)",
		// The overlap of Exchange Online and AzureCloud: Exchange decides, both are listed.
		"40.100.24.10: intermediary, microsoft, Exchange Online (new Outlook, Outlook.com sync) (confidence high)\n" +
			"  * ms-exchange-online 40.96.0.0/13 (Exchange Optimize, id 1)\n" +
			"      from " + fs.srv.URL + "/endpoints/Worldwide, 2026113000\n" +
			"    azure-cloud 40.100.24.0/26 (AzureCloud.centralindia)\n" +
			"      from " + fs.srv.URL + "/files/ServiceTags_Public_20261123.json, 20261123 (changeNumber 400)\n",
	} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("lookup lacks %q (exit %d):\n%s", s, code, out)
		}
	}

	// Immediately again: etiquette, nothing fetched.
	calls := fs.calls["/aws.json"]
	code, out, _ = runMain(fs.args(cache)...)
	if code != 0 || !strings.Contains(out, "aws           skipped") || !strings.Contains(out, "(or --force)") || fs.calls["/aws.json"] != calls {
		t.Errorf("second update: exit %d\n%s", code, out)
	}

	// Forced with AWS failing: exit 3, AWS data kept, the rest refreshed.
	fs.mu.Lock()
	fs.fail["/aws.json"] = http.StatusInternalServerError
	fs.mu.Unlock()
	code, out, errs = runMain(append(fs.args(cache), "--force")...)
	if code != 3 || !regexp.MustCompile(`(?m)^aws +failed +2026-11-20-00-00-00 +1 +failed, previous data kept$`).MatchString(out) {
		t.Errorf("failing update: exit %d\n%s", code, out)
	}
	if !strings.Contains(errs, "mailaudit: aws: GET "+fs.srv.URL+"/aws.json: 500 Internal Server Error (previous data kept)") {
		t.Errorf("stderr %q", errs)
	}
	code, out, _ = runMain("ranges", "lookup", "--no-geoip", "--cache-dir", cache, "3.5.141.1")
	if code != 0 || !strings.Contains(out, "Amazon AWS") {
		t.Errorf("previous aws data not in use: %s", out)
	}
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestRangesUpdateUsage(t *testing.T) {
	if code, _, errs := runMain("ranges", "update", "--bogus"); code != 2 || !strings.Contains(errs, "unknown flag: --bogus") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	if code, _, _ := runMain("ranges", "list", "extra"); code != 2 {
		t.Errorf("list with an argument: exit %d", code)
	}
}

// rangeFlags is what scan, check and report use.
func TestRangeFlags(t *testing.T) {
	var rf rangeFlags
	fs := newRangesFlagSet()
	rf.register(fs)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "o365.json"), []byte("{broken"), 0o644)
	if err := fs.Parse([]string{"--cache-dir", dir, "--no-geoip", "--ranges", filepath.Join(dir, "none.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rf.classifier(); err == nil || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing list: %v", err)
	}
	rf.lists = nil
	c, err := rf.classifier()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var w bytes.Buffer
	rf.printWarnings(&w)
	if !strings.Contains(w.String(), "mailaudit: warning: skipping cached o365 list: "+filepath.Join(dir, "o365.json")+":1: invalid JSON") {
		t.Errorf("warnings %q", w.String())
	}
}

func newRangesFlagSet() *pflag.FlagSet { return pflag.NewFlagSet("test", pflag.ContinueOnError) }

// TestRangesUpdateFirstFailure: a feed failing on the very first update
// says there is no previous data, rather than claiming it was kept.
func TestRangesUpdateFirstFailure(t *testing.T) {
	fs := newRangesFeedServer(t)
	fs.fail["/aws.json"] = http.StatusInternalServerError
	cache := t.TempDir()
	code, out, errs := runMain(fs.args(cache)...)
	if code != 3 || !regexp.MustCompile(`(?m)^aws +failed +- +0 +failed, no data$`).MatchString(out) {
		t.Errorf("exit %d\n%s", code, out)
	}
	if !strings.Contains(errs, "500 Internal Server Error (no previous data)") || strings.Contains(errs, "aws.json: 500 Internal Server Error (previous data kept)") {
		t.Errorf("stderr %q", errs)
	}
}
