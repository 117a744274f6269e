package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportLog is a small mail log in the formats of testdata/mail.log.
const reportLog = `Nov 20 08:01:12 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.10, mpid=2210, TLS, session=<b7Hq1Q0JqMDGM2Qz>
Nov 20 08:30:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=XOAUTH2, rip=198.51.100.23, lip=192.0.2.10, mpid=2211, TLS, session=<b7Hq1Q0JqMDGM2Q0>
Nov 20 09:02:44 mx1 dovecot: imap-login: Logged in: user=<alice@example.org>, method=PLAIN, rip=52.98.204.101, lip=192.0.2.10, mpid=2311, TLS, session=<nO2pJQ8KfMQ0YswB>
Nov 20 09:17:44 mx1 dovecot: imap-login: Logged in: user=<alice@example.org>, method=PLAIN, rip=52.98.207.109, lip=192.0.2.10, mpid=2340, TLS, session=<pA1kJQ8KhMQ0YswC>
Nov 20 09:30:00 mx1 dovecot: imap-login: Login: user=<carol@example.org>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=2360, secured, session=<s3n3JQ8KjsQ0ZcwF>
Nov 20 09:45:12 mx1 dovecot: pop3-login: Login: user=<dave@example.org>, method=PLAIN, rip=203.0.113.80, lip=192.0.2.10, mpid=2370, session=<t4n3JQ8KjsQ0ZcwG>
Nov 20 09:46:12 mx1 dovecot: pop3-login: Login: user=<dave@example.org>, method=CRAM-MD5, rip=203.0.113.80, lip=192.0.2.10, mpid=2371, session=<t4n3JQ8KjsQ0ZcwH>
Nov 20 10:00:01 mx1 dovecot: imap-login: Disconnected: Connection closed (auth failed, 3 attempts in 12 secs): user=<admin>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, session=<u5n3JQ8KjsQ0ZcwH>
Nov 20 10:07:13 mx1 dovecot: auth: passwd-file(frank@example.org,198.51.100.77,<C3n3JQ8KjsQ0ZcwP>): Password mismatch (given password: hunter2)
Nov 20 10:20:01 mx1 postfix/submission/smtpd[2501]: 4Xk3Bz2kLmz9sWf: client=unknown[198.51.100.23], sasl_method=PLAIN, sasl_username=alice@example.org
Nov 20 10:21:00 mx1 dovecot: imap-login: Login: user=<=cmd|' /C calc'!A0>, method=PLAIN, rip=192.0.2.99, lip=192.0.2.10, mpid=2400, session=<x1>
`

// writeReportLog writes reportLog to a temp file, gzip-compressed when
// gz, and returns its path.
func writeReportLog(t *testing.T, gz bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mail.log")
	data := []byte(reportLog)
	if gz {
		path += ".gz"
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runReportCmd runs `mailaudit report ARGS…` in-process with offline,
// deterministic classifier and time flags.
func runReportCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	full := append([]string{"report"}, args...)
	if len(args) > 1 && (args[0] == "mechanisms" || args[0] == "insecure" || args[0] == "intermediaries") {
		full = append(full, "--no-geoip", "--cache-dir", t.TempDir(), "--year", "2026", "--tz", "UTC", "--progress", "never")
	}
	var out, errb bytes.Buffer
	code = Main(full, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

type mechanismsJSON struct {
	Mechanisms []struct {
		User       *string `json:"user"`
		RIP        string  `json:"rip"`
		Count      int     `json:"count"`
		Last       string  `json:"last"`
		Services   []string
		Password   bool `json:"password"`
		Token      bool `json:"token"`
		Mechanisms []struct {
			Name  *string `json:"name"`
			Class string  `json:"class"`
			Count int     `json:"count"`
		} `json:"mechanisms"`
	} `json:"mechanisms"`
	Totals []struct {
		Name  string `json:"name"`
		Class string `json:"class"`
		Count int    `json:"count"`
		Users int    `json:"users"`
	} `json:"totals"`
}

func TestReportMechanisms(t *testing.T) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		t.Run(name, func(t *testing.T) {
			code, out, errs := runReportCmd(t, "", "mechanisms", "--format", "json", writeReportLog(t, gz))
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			var got mechanismsJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			type row struct {
				user, rip       string
				count           int
				password, token bool
				mechs           string
			}
			var rows []row
			for _, r := range got.Mechanisms {
				var ms []string
				for _, m := range r.Mechanisms {
					ms = append(ms, *m.Name+"/"+m.Class)
				}
				rows = append(rows, row{*r.User, r.RIP, r.Count, r.Password, r.Token, strings.Join(ms, " ")})
			}
			want := []row{
				{"=cmd|' /C calc'!A0", "192.0.2.99", 1, true, false, "PLAIN/password"},
				{"alice@example.org", "52.98.204.101", 1, true, false, "PLAIN/password"},
				{"alice@example.org", "52.98.207.109", 1, true, false, "PLAIN/password"},
				{"alice@example.org", "198.51.100.23", 3, true, true, "PLAIN/password XOAUTH2/token"},
				{"carol@example.org", "127.0.0.1", 1, true, false, "PLAIN/password"},
				{"dave@example.org", "203.0.113.80", 2, true, false, "CRAM-MD5/password PLAIN/password"},
			}
			if len(rows) != len(want) {
				t.Fatalf("rows = %+v\nwant %+v", rows, want)
			}
			for i := range want {
				if rows[i] != want[i] {
					t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
				}
			}
			if len(got.Totals) == 0 || got.Totals[0].Name != "PLAIN" || got.Totals[0].Count != 7 || got.Totals[0].Users != 4 {
				t.Errorf("totals = %+v, want PLAIN first with 7 logins by 4 users", got.Totals)
			}
		})
	}
}

func TestReportInsecure(t *testing.T) {
	code, out, errs := runReportCmd(t, "", "insecure", "--format", "json", writeReportLog(t, false))
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var got struct {
		Insecure []struct {
			User    string `json:"user"`
			RIP     string `json:"rip"`
			Service string `json:"service"`
			Count   int    `json:"count"`
		} `json:"insecure"`
		Services []struct {
			Service string `json:"service"`
			Count   int    `json:"count"`
			Users   int    `json:"users"`
		} `json:"services"`
		Totals map[string]int `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Insecure) != 2 ||
		got.Insecure[0].User != "=cmd|' /C calc'!A0" || got.Insecure[0].Service != "imap" || got.Insecure[0].Count != 1 ||
		got.Insecure[1].User != "dave@example.org" || got.Insecure[1].Service != "pop3" || got.Insecure[1].Count != 2 {
		t.Errorf("insecure = %+v", got.Insecure)
	}
	if len(got.Services) != 2 || got.Services[0].Service != "pop3" || got.Services[0].Count != 2 || got.Services[0].Users != 1 {
		t.Errorf("services = %+v", got.Services)
	}
	want := map[string]int{"logins": 9, "tls": 4, "secured": 1, "cleartext": 3, "tls_unknown": 1}
	for k, v := range want {
		if got.Totals[k] != v {
			t.Errorf("totals[%s] = %d, want %d (all: %v)", k, got.Totals[k], v, got.Totals)
		}
	}
}

func TestReportIntermediaries(t *testing.T) {
	code, out, errs := runReportCmd(t, "", "intermediaries", "--format", "json", writeReportLog(t, false))
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var got struct {
		Intermediaries []struct {
			User         string   `json:"user"`
			Provider     string   `json:"provider"`
			Count        int      `json:"count"`
			First        string   `json:"first"`
			Last         string   `json:"last"`
			Addresses    []string `json:"addresses"`
			AddressCount int      `json:"address_count"`
		} `json:"intermediaries"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Intermediaries) != 1 {
		t.Fatalf("intermediaries = %+v, want alice through Exchange Online", got.Intermediaries)
	}
	r := got.Intermediaries[0]
	if r.User != "alice@example.org" || r.Provider != "microsoft" || r.Count != 2 || r.AddressCount != 2 ||
		r.First != "2026-11-20T09:02:44Z" || r.Last != "2026-11-20T09:17:44Z" {
		t.Errorf("intermediary = %+v", r)
	}
}

// TestReportFormats checks each report in each format on the same log:
// the table's title, the CSV header and formula defence, JSON lines.
func TestReportFormats(t *testing.T) {
	path := writeReportLog(t, false)
	titles := map[string]string{
		"mechanisms":     "Authentication mechanisms per user and address",
		"insecure":       "Cleartext logins: no TLS",
		"intermediaries": "Cloud intermediaries",
	}
	for q, title := range titles {
		t.Run(q+"/table", func(t *testing.T) {
			code, out, errs := runReportCmd(t, "", q, path)
			if code != 0 || !strings.HasPrefix(out, title) {
				t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
			}
		})
		t.Run(q+"/csv", func(t *testing.T) {
			code, out, errs := runReportCmd(t, "", q, "--format", "csv", path)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) < 2 || recs[0][0] != "user" {
				t.Fatalf("csv = %q", recs)
			}
			for _, rec := range recs[1:] {
				if strings.HasPrefix(rec[0], "=") {
					t.Errorf("formula cell %q", rec[0])
				}
			}
		})
		t.Run(q+"/jsonl", func(t *testing.T) {
			code, out, errs := runReportCmd(t, "", q, "--format", "jsonl", path)
			if code != 0 || out == "" {
				t.Fatalf("exit %d, stderr %q, stdout %q", code, errs, out)
			}
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("invalid JSON line %q", line)
				}
			}
		})
	}
}

func TestReportInputs(t *testing.T) {
	journal := `{"__REALTIME_TIMESTAMP":"1763625672000000","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"pop3-login: Login: user=<zoe@example.org>, method=LOGIN, rip=198.51.100.5, lip=192.0.2.10, mpid=1, session=<a1>"}` + "\n"
	tests := []struct {
		name  string
		stdin string
		args  func(t *testing.T) []string
		want  string // in stdout
	}{
		{"stdin", reportLog, func(*testing.T) []string { return []string{"-"} }, `"rip":"203.0.113.80","service":"pop3","count":2`},
		{"journald json", journal, func(*testing.T) []string { return []string{"-"} }, `"user":"zoe@example.org","rip":"198.51.100.5","service":"pop3","count":1`},
		{"filter user", "", func(t *testing.T) []string {
			return []string{"--user", "dave@example.org", writeReportLog(t, false)}
		}, `"cleartext":2,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"insecure", "--format", "json"}, tt.args(t)...)
			code, out, errs := runReportCmd(t, tt.stdin, args...)
			if code != 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, stderr %q, stdout lacks %q:\n%s", code, errs, tt.want, out)
			}
		})
	}
}

// TestReportInputError checks that a missing file among readable ones
// still gives the report of the others, and exit status 3.
func TestReportInputError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.log")
	code, out, errs := runReportCmd(t, "", "mechanisms", "--format", "json", writeReportLog(t, false), missing)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(errs, "nope.log") {
		t.Errorf("stderr %q does not name the missing file", errs)
	}
	var got mechanismsJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Mechanisms) != 6 {
		t.Errorf("report of the readable file missing (err %v):\n%s", err, out)
	}
}

func TestReportUsage(t *testing.T) {
	path := writeReportLog(t, false)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no question", nil, "report needs a question"},
		{"unknown question", []string{"bogus", path}, `unknown report "bogus"`},
		{"no file", []string{"mechanisms"}, "needs at least one log FILE"},
		{"bad format", []string{"insecure", "--format", "yaml", path}, `--format: unknown format "yaml" (want table, json, jsonl, csv or html)`},
		{"github format", []string{"intermediaries", "--format", "github", path}, `unknown format "github"`},
		{"unknown flag", []string{"mechanisms", "--bogus", path}, "unknown flag: --bogus"},
		{"bad since", []string{"mechanisms", "--since", "yesterday", path}, "--since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runReportCmd(t, "", tt.args...)
			if code != exitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, exitUsage, tt.want)
			}
			if strings.Contains(out, "+--") {
				t.Errorf("printed a report on a usage error:\n%s", out)
			}
		})
	}
}
