package ipranges

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// formatEntries renders entries one per line for golden files.
func formatEntries(head string, es []entry) string {
	var b strings.Builder
	b.WriteString(head + "\n")
	for _, e := range es {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", e.Prefix, e.Label, e.Detail)
	}
	return b.String()
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseFeeds(t *testing.T) {
	tests := []struct {
		file  string
		parse func(string, []byte) ([]entry, string, error)
	}{
		{"o365-endpoints.json", func(f string, d []byte) ([]entry, string, error) { es, err := parseO365(f, d); return es, "", err }},
		{"azure-servicetags.json", func(f string, d []byte) ([]entry, string, error) {
			es, cn, err := parseAzure(f, d)
			return es, fmt.Sprint("changeNumber ", cn), err
		}},
		{"goog.json", func(f string, d []byte) ([]entry, string, error) { return parseGoogle(f, d, LabelGoogleServices) }},
		{"cloud.json", func(f string, d []byte) ([]entry, string, error) { return parseGoogle(f, d, LabelGoogleCloud) }},
		{"aws-ip-ranges.json", parseAWS},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			es, date, err := tt.parse(tt.file, readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(tt.file, ".json")+".golden", formatEntries("date: "+date, es))
		})
	}
}

// The classification rules of parseO365, spelled out beside the golden file.
func TestParseO365Labels(t *testing.T) {
	es, err := parseO365("x", readFixture(t, "o365-endpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range es {
		got[e.Prefix.String()] += e.Label + " "
	}
	for p, want := range map[string]string{
		"52.96.0.0/14":       LabelExchangeOnline + " ",
		"2603:1026::/36":     LabelExchangeOnline + " ",
		"40.107.0.0/16":      LabelEOPRelay + " ",
		"2a01:111:f403::/48": LabelEOPRelay + " ",
		"13.107.136.0/22":    LabelMicrosoft365 + " ",
		"20.190.128.0/18":    LabelMicrosoft365 + " ",
	} {
		if got[p] != want {
			t.Errorf("%s: %q, want %q", p, got[p], want)
		}
	}
}

// An Exchange set made mostly of EOP relay space is the EOP set: its
// other prefixes are relays too, whatever its id; a client-access set
// keeps its label even when it also lists one relay prefix.
func TestParseO365EOPSet(t *testing.T) {
	data := `[
 {"id":90,"serviceArea":"Exchange","category":"Allow","tcpPorts":"443","ips":["40.92.0.0/15","40.107.0.0/16","203.0.113.88/32"]},
 {"id":1,"serviceArea":"Exchange","category":"Optimize","ips":["52.96.0.0/14","40.96.0.0/13","104.47.0.0/17"]},
 {"id":5,"serviceArea":"Exchange","category":"Default","ips":["198.51.100.0/24"]}
]`
	es, err := parseO365("o365", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range es {
		got[e.Prefix.String()] = e.Label
	}
	for p, want := range map[string]string{
		"203.0.113.88/32": LabelEOPRelay,
		"40.107.0.0/16":   LabelEOPRelay,
		"52.96.0.0/14":    LabelExchangeOnline,
		"104.47.0.0/17":   LabelEOPRelay,
		"198.51.100.0/24": LabelMicrosoft365,
	} {
		if got[p] != want {
			t.Errorf("%s: %q, want %q", p, got[p], want)
		}
	}
}

func TestParseO365Version(t *testing.T) {
	tests := []struct{ name, data, want, err string }{
		{"ok", `{"instance":"Worldwide","latest":"2026073100"}`, "2026073100", ""},
		{"short", `{"instance":"Worldwide","latest":"202607"}`, "", `v: $.latest: "202607": not a YYYYMMDDNN version`},
		{"array", `[{"instance":"Worldwide","latest":"2026073100"}]`, "", `v:1: $: array where object expected`},
		{"error object", `{"error":"bad clientrequestid"}`, "", `v: $.latest: not a YYYYMMDDNN version`},
		{"garbage", "<html>", "", "v:1: invalid JSON: invalid character '<' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseO365Version("v", []byte(tt.data))
			if errStr(err) != tt.err || got != tt.want {
				t.Errorf("got %q, %v; want %q, %s", got, err, tt.want, tt.err)
			}
		})
	}
}

func errStr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseFeedErrors(t *testing.T) {
	o365 := func(f string, d []byte) error { _, err := parseO365(f, d); return err }
	azure := func(f string, d []byte) error { _, _, err := parseAzure(f, d); return err }
	goog := func(f string, d []byte) error { _, _, err := parseGoogle(f, d, LabelGoogleServices); return err }
	aws := func(f string, d []byte) error { _, _, err := parseAWS(f, d); return err }
	tests := []struct {
		file  string
		data  string // used instead of the file when set
		parse func(string, []byte) error
		want  string
	}{
		{file: "o365-endpoints-bad.json", parse: o365, want: `o365-endpoints-bad.json: $[1].ips[1]: "52.98.0.0/33": bad prefix`},
		{file: "o365-endpoints-type.json", parse: o365, want: `o365-endpoints-type.json:3: $.ips: string where array expected`},
		{file: "o365-error.json", data: `{"error":"Too many requests"}`, parse: o365, want: `o365-error.json:1: $: object where array expected`},
		{file: "azure-number.json", data: `{"changeNumber":"376","values":[]}`, parse: azure, want: `azure-number.json:1: $.changeNumber: string where number expected`},
		{file: "o365-endpoints-syntax.json", parse: o365, want: `o365-endpoints-syntax.json:3: invalid JSON: invalid character ',' looking for beginning of object key string`},
		{file: "o365-empty.json", data: `[]`, parse: o365, want: `o365-empty.json: no prefixes`},
		{file: "o365-no-exchange.json", data: `[{"id":46,"serviceArea":"SharePoint","category":"Optimize","ips":["13.107.136.0/22"]},{"id":8,"serviceArea":"Exchange","category":"Default","ips":["52.96.0.0/14"]}]`, parse: o365,
			want: `o365-no-exchange.json: no Exchange Online client-access prefixes (serviceArea Exchange, category Optimize or Allow)`},
		{file: "azure-servicetags-bad.json", parse: azure, want: `azure-servicetags-bad.json: $.values[1].properties.addressPrefixes[1]: "not-a-prefix": bad prefix`},
		{file: "azure-empty.json", data: `{"changeNumber":1,"values":[{"name":"Foo","properties":{"addressPrefixes":["1.2.3.0/24"]}}]}`, parse: azure, want: `azure-empty.json: $.values: no prefixes`},
		{file: "goog-bad.json", parse: goog, want: `goog-bad.json: $.prefixes[1]: want exactly one of ipv4Prefix, ipv6Prefix`},
		{file: "goog-mapped.json", data: `{"prefixes":[{"ipv6Prefix":"::ffff:0:0/90"}]}`, parse: goog, want: `goog-mapped.json: $.prefixes[0].ipv6Prefix: "::ffff:0:0/90": unsupported prefix`},
		{file: "aws-ip-ranges-bad.json", parse: aws, want: `aws-ip-ranges-bad.json: $.ipv6_prefixes[1].ipv6_prefix: "2600:1f14::/300": bad prefix`},
		{file: "aws-empty.json", data: `{"prefixes":[]}`, parse: aws, want: `aws-empty.json: $.prefixes: no prefixes`},
		{file: "aws-null.json", data: `null`, parse: aws, want: `aws-null.json: $.prefixes: no prefixes`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := []byte(tt.data)
			if tt.data == "" {
				data = readFixture(t, tt.file)
			}
			err := tt.parse(tt.file, data)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != tt.file {
				t.Fatalf("error %v (%T), want a *ParseError naming %s", err, err, tt.file)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// The shared snapshots of the real feeds, when present, parse and
// classify the documented test addresses as ipranges.md §6 says.
func TestParseSharedSnapshots(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "ranges")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no shared range snapshots")
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Skip(err)
		}
		return data
	}
	az, cn, err := parseAzure("azure", read("azure-servicetags-public.json"))
	if err != nil || cn != 376 {
		t.Fatalf("azure: cn %d, %v", cn, err)
	}
	goog, _, err := parseGoogle("goog", read("google-goog.json"), LabelGoogleServices)
	if err != nil {
		t.Fatal(err)
	}
	cloud, _, err := parseGoogle("cloud", read("google-cloud.tracker-normalized.json"), LabelGoogleCloud)
	if err != nil {
		t.Fatal(err)
	}
	tbl := NewTable()
	for _, es := range [][]entry{az, goog, cloud} {
		for _, e := range es {
			if err := tbl.Insert(e.Prefix, Label{Name: e.Label, Prefix: e.Prefix.String(), Detail: e.Detail}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for ip, want := range map[string]string{
		"52.125.138.20":  "azure-cloud AzureCloud.northeurope",
		"52.125.141.200": "azure-cloud AzureCloud.westeurope",
		"40.107.22.33":   "ms-eop-relay EOPExternalPublishedIPs",
		"52.98.204.101":  "",
		"8.8.8.8":        "google-services ",
	} {
		var got []string
		for _, l := range tbl.Lookup(mustAddr(ip), nil) {
			got = append(got, l.Name+" "+l.Detail)
		}
		if strings.Join(got, "|") != want {
			t.Errorf("%s: %q, want %q", ip, got, want)
		}
	}
}

// Text from a feed that reaches terminals (details, dates) carries no
// control characters (terminal escapes) and no invalid UTF-8.
func TestFeedTextSanitized(t *testing.T) {
	esc := "\x1b]0;owned\x07\x1b[2J"
	clean := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(s) || len(s) > 90 {
			t.Errorf("%s %q", what, s)
		}
	}
	es, date, err := parseAWS("aws", []byte(`{"createDate":"2026`+jsonEsc(esc)+`","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"eu`+jsonEsc(esc)+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	clean(t, "aws date", date)
	clean(t, "aws detail", es[0].Detail)
	es, _, err = parseAzure("azure", []byte(`{"changeNumber":1,"values":[{"name":"AzureCloud.x`+jsonEsc(esc)+strings.Repeat("é", 60)+`","properties":{"addressPrefixes":["20.0.0.0/16"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	clean(t, "azure detail", es[0].Detail)
	es, date, err = parseGoogle("goog", []byte(`{"creationTime":"x`+jsonEsc(esc)+`","prefixes":[{"ipv4Prefix":"8.8.8.0/24","scope":"`+"\xff"+jsonEsc(esc)+`"}]}`), LabelGoogleServices)
	if err != nil {
		t.Fatal(err)
	}
	clean(t, "google date", date)
	clean(t, "google detail", es[0].Detail)
}

// jsonEsc writes s as the inside of a JSON string.
func jsonEsc(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
