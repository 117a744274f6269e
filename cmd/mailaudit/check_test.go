package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkT0 is 08:00 on the day of the check logs (--year 2026 --tz UTC).
var checkT0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// stamp is the syslog prefix of a line sec seconds after checkT0.
func stamp(sec int) string {
	return checkT0.Add(time.Duration(sec) * time.Second).Format("Jan _2 15:04:05")
}

// Realistic lines, as in testdata/mail.log.
func login23(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, mpid=2210, TLS, session=<b7Hq1Q0JqMDGM2Qz>\n", stamp(sec), user, ip)
}

func login24(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Logged in: user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, mpid=2311, TLS, session=<nO2pJQ8KfMQ0YswB>\n", stamp(sec), user, ip)
}

func fail23(sec int, user, ip string, n int) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Disconnected: Connection closed (auth failed, %d attempts in 12 secs): user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, TLS, session=<u5n3JQ8KjsQ0ZcwH>\n", stamp(sec), n, user, ip)
}

func fail24(sec int, user, ip string, n int) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Login aborted: Connection closed (auth failed, %d attempts in 20 secs) (auth_failed): user=<%s>, method=PLAIN, rip=%s, lip=2001:db8::10, TLS, session=<F6n3JQ8KjsQ0ZcwS>\n", stamp(sec), n, user, ip)
}

func saslOK(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 postfix/submission/smtpd[2530]: 4Xk3Cc1Lpz9sWg: client=unknown[%s], sasl_method=LOGIN, sasl_username=%s\n", stamp(sec), ip, user)
}

func saslFail(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 postfix/smtpd[2520]: warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=%s\n", stamp(sec), ip, user)
}

func probe(sec int, ip string) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Disconnected: Inactivity (no auth attempts in 180 secs): user=<>, rip=%s, lip=192.0.2.10, TLS handshaking, session=<D4n3JQ8KjsQ0ZcwQ>\n", stamp(sec), ip)
}

func limit(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10): user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, TLS, session=<x>\n", stamp(sec), user, ip)
}

// secured is a login line of a connection from a trusted network: webmail
// on loopback, or a proxy forwarding the client's address.
func secured(sec int, ok bool, user, ip string) string {
	verb := "Disconnected: Connection closed (auth failed, 1 attempts in 2 secs)"
	if ok {
		verb = "Login"
	}
	return fmt.Sprintf("%s mx1 dovecot: imap-login: %s: user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, mpid=2360, secured, session=<s3n3JQ8KjsQ0ZcwF>\n", stamp(sec), verb, user, ip)
}

// journal is one journald JSON export line of Dovecot's message at sec.
func journal(sec int, msg string) string {
	b, _ := json.Marshal(map[string]string{
		"__REALTIME_TIMESTAMP": strconv.FormatInt(checkT0.Add(time.Duration(sec)*time.Second).UnixMicro(), 10),
		"_HOSTNAME":            "mx2", "SYSLOG_IDENTIFIER": "dovecot", "MESSAGE": msg,
	})
	return string(b) + "\n"
}

// repeat joins n lines made by f(i).
func repeat(n int, f func(i int) string) string {
	var s strings.Builder
	for i := range n {
		s.WriteString(f(i))
	}
	return s.String()
}

// malformedLine looks like a successful login, but its rip is no address:
// check must not let it pass.
const malformedLine = "Nov 20 10:05:00 mx1 dovecot: imap-login: Login: user=<mallory@example.org>, method=PLAIN, rip=6.6.6.666, lip=192.0.2.10, mpid=2401, TLS, session=<B2n3JQ8KjsQ0ZcwO>\n"

// logFile is one input of a check case, read in the order given.
type logFile struct{ name, text string }

// runCheckIn runs check with the isolated flags in dir and returns the
// exit code, stdout and stderr.
func runCheckIn(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	full := append(append([]string{"check"}, isolated(t)...), args...)
	var out, errb bytes.Buffer
	code := Main(full, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCheckScenarios runs check over small realistic logs, one attack or
// admin situation each, and pins the exit code and the rules of the
// findings that fail it (jsonl output).
func TestCheckScenarios(t *testing.T) {
	tests := []struct {
		name   string
		files  []logFile
		allow  string   // allowlist text; "" runs without --allow
		args   []string // more flags
		ranges string   // a --ranges list, when set
		code   int
		rules  []string // rules of the failing findings, sorted
	}{
		// The default gate: not-allowlisted.
		{name: "allowlisted 2.3 login passes",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "198.51.100.23")}},
			allow: "198.51.100.0/24\n", code: exitOK},
		{name: "2.4 login from outside the allowlist fails",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "198.51.100.23") + login24(60, "alice@example.org", "203.0.113.50")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "postfix sasl login from outside the allowlist fails",
			files: []logFile{{"mail.log", saslOK(0, "alice@example.org", "203.0.113.50")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "ipv4-mapped rip inside an ipv4 allowlist network passes",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "::ffff:6.6.6.6")}},
			allow: "6.6.6.0/24\n", code: exitOK},
		{name: "ipv4-mapped rip outside the allowlist fails",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "::ffff:6.6.7.6")}},
			allow: "6.6.6.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "per-user entry matches the user in another case and with a trailing space",
			files: []logFile{{"mail.log", login23(0, "Alice@Example.org", "198.51.100.23") + login23(60, "alice@example.org ", "198.51.100.24")}},
			allow: "alice@example.org 198.51.100.0/24\n", code: exitOK},
		{name: "another user from alice's own network fails",
			files: []logFile{{"mail.log", login23(0, "mallory@example.org", "198.51.100.23")}},
			allow: "alice@example.org 198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "provider:microsoft allows bob through Exchange Online",
			files: []logFile{{"mail.log", login23(0, "bob@example.org", "52.98.204.101") + login23(60, "bob@example.org", "52.125.139.20")}},
			allow: "provider:microsoft bob@example.org\n", code: exitOK},
		{name: "provider:microsoft does not allow an Azure VM",
			files:  []logFile{{"mail.log", login23(0, "bob@example.org", "20.50.1.1")}},
			ranges: "20.50.0.0/16 azure-cloud\n",
			allow:  "provider:microsoft bob@example.org\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "a login refused by the connection limit from outside fails (the password was right)",
			files: []logFile{{"mail.log", limit(0, "alice@example.org", "203.0.113.50")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "a login with an empty user from outside fails",
			files: []logFile{{"mail.log", login23(0, "", "203.0.113.50")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "a malformed login line fails whatever --fail-on says",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "198.51.100.23") + malformedLine}},
			args:  []string{"--fail-on", "critical"}, code: exitFindings, rules: []string{"malformed-login-line"}},
		// Attacks.
		{name: "brute force fails --fail-on medium",
			files: []logFile{{"mail.log", repeat(4, func(i int) string { return fail23(i*20, "admin", "203.0.113.66", 3) })}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "medium"}, code: exitFindings, rules: []string{"brute-force"}},
		{name: "brute force alone is no high finding (internet noise: the digest)",
			files: []logFile{{"mail.log", repeat(4, func(i int) string { return fail23(i*20, "admin", "203.0.113.66", 3) })}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "high"}, code: exitOK},
		{name: "brute force passes --fail-on critical",
			files: []logFile{{"mail.log", repeat(4, func(i int) string { return fail23(i*20, "admin", "203.0.113.66", 3) })}},
			args:  []string{"--fail-on", "critical"}, code: exitOK},
		{name: "success after the user's own failures from a new address is high",
			files: []logFile{{"mail.log", repeat(3, func(i int) string { return saslFail(i*30, "erin@example.org", "203.0.113.66") }) +
				fail23(100, "erin@example.org", "203.0.113.66", 2) + login23(120, "erin@example.org", "203.0.113.66")}},
			args: []string{"--fail-on", "success-after-failures"}, code: exitFindings, rules: []string{"success-after-failures"}},
		{name: "a spray source that logs in is an account compromise",
			files: []logFile{{"mail.log", repeat(6, func(i int) string { return saslFail(i*60, fmt.Sprintf("u%d@example.org", i), "203.0.113.66") }) +
				login23(3600, "erin@example.org", "198.51.100.7") + login23(4000, "erin@example.org", "203.0.113.66")}},
			args: []string{"--fail-on", "critical"}, code: exitFindings, rules: []string{"account-compromise"}},
		{name: "brute force in a journald export read after a file that ends later",
			files: []logFile{
				{"mail.log", login23(3*3600, "alice@example.org", "198.51.100.23")},
				{"journal.json", repeat(12, func(i int) string {
					return journal(i*5, "imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<carol@example.org>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<j1>")
				})}},
			args: []string{"--fail-on", "brute-force"}, code: exitFindings, rules: []string{"brute-force"}},
		{name: "five spellings of one user are no password spray",
			files: []logFile{{"mail.log", fail23(0, "alice@example.org", "203.0.113.66", 1) + fail23(60, "Alice@example.org", "203.0.113.66", 1) +
				fail23(120, "ALICE@EXAMPLE.ORG", "203.0.113.66", 1) + fail23(180, "alice@example.org ", "203.0.113.66", 1) + fail23(240, "aLiCe@example.org", "203.0.113.66", 1)}},
			args: []string{"--fail-on", "password-spray"}, code: exitOK},
		{name: "five users from one address are a password spray",
			files: []logFile{{"mail.log", repeat(5, func(i int) string { return fail23(i*60, fmt.Sprintf("u%d@example.org", i), "203.0.113.66", 1) })}},
			args:  []string{"--fail-on", "password-spray"}, code: exitFindings, rules: []string{"password-spray"}},
		{name: "brute force rotating through one IPv6 /64",
			files: []logFile{{"mail.log", repeat(9, func(i int) string { return fail24(i*10, "root", fmt.Sprintf("2001:db8:bad:1::%x", i+1), 2) })}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "medium"}, code: exitFindings, rules: []string{"brute-force"}},
		{name: "brute force through a trusted proxy that forwards the client address",
			files: []logFile{{"mail.log", repeat(10, func(i int) string { return secured(i*5, false, "alice@example.org", "203.0.113.66") })}},
			args:  []string{"--fail-on", "brute-force"}, code: exitFindings, rules: []string{"brute-force"}},
		// What an admin does not want to be woken up for.
		{name: "phone with a stale password all night is not high",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "198.51.100.23") +
				repeat(40, func(i int) string { return fail23(600+i*900, "alice@example.org", "198.51.100.23", 1) })}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "high"}, code: exitOK},
		{name: "phone with a stale password all night is stale-credentials",
			files: []logFile{{"mail.log", login23(0, "alice@example.org", "198.51.100.23") +
				repeat(40, func(i int) string { return fail23(600+i*900, "alice@example.org", "198.51.100.23", 1) })}},
			args: []string{"--fail-on", "stale-credentials"}, code: exitFindings, rules: []string{"stale-credentials"}},
		{name: "webmail on loopback failing for many users and logging in",
			files: []logFile{{"mail.log", repeat(20, func(i int) string { return secured(i, false, fmt.Sprintf("u%d@example.org", i), "127.0.0.1") }) +
				secured(30, true, "u1@example.org", "127.0.0.1") + secured(31, true, "u2@example.org", "::1")}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "high,not-allowlisted"}, code: exitOK},
		{name: "no auth attempts probes and connection-limit refusals",
			files: []logFile{{"mail.log", repeat(50, func(i int) string { return probe(i, "203.0.113.5") }) +
				repeat(30, func(i int) string { return limit(i, "alice@example.org", "198.51.100.23") })}},
			allow: "198.51.100.0/24\n", args: []string{"--fail-on", "medium,not-allowlisted"}, code: exitOK},
		{name: "Outlook mobile rotating through many Microsoft addresses",
			files: []logFile{{"mail.log", repeat(12, func(i int) string { return fail23(i*60, "bob@example.org", fmt.Sprintf("52.125.139.%d", i+1), 1) }) +
				repeat(12, func(i int) string { return login23(900+i*60, "bob@example.org", fmt.Sprintf("52.98.204.%d", i+1)) }) +
				login23(1800, "alice@example.org", "52.125.139.200")}},
			args: []string{"--fail-on", "medium"}, allow: "provider:microsoft\n", code: exitOK},
		{name: "a user's first login is trusted",
			files: []logFile{{"mail.log", login23(0, "carol@example.org", "203.0.113.7")}},
			args:  []string{"--fail-on", "new-device,impossible-travel,cleartext-auth"}, code: exitOK},
		{name: "a user's second network on the first day is learned (learning period)",
			files: []logFile{{"mail.log", login23(0, "carol@example.org", "203.0.113.7") + login23(3600*3, "CAROL@example.org", "198.51.100.1")}},
			args:  []string{"--fail-on", "new-device"}, code: exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--format", "jsonl"}
			if tt.allow != "" {
				args = append(args, "--allow", writeFile(t, dir, "allow.txt", tt.allow))
			}
			if tt.ranges != "" {
				args = append(args, "--ranges", writeFile(t, dir, "ranges.txt", tt.ranges))
			}
			args = append(args, tt.args...)
			for _, f := range tt.files {
				args = append(args, writeFile(t, dir, f.name, f.text))
			}
			code, out, errb := runCheckIn(t, args)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, tt.code, errb, out)
			}
			var got []string
			for _, f := range jsonlEvents(t, out) {
				got = append(got, fmt.Sprint(f["rule"]))
				ev, _ := f["evidence"].([]any)
				if len(ev) == 0 || !strings.HasPrefix(fmt.Sprint(ev[0]), dir) {
					t.Errorf("finding without file:line evidence: %v", f)
				}
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tt.rules) {
				t.Errorf("failing rules %q, want %q\n%s", got, tt.rules, out)
			}
			if (code == exitFindings) != strings.Contains(errb, "check failed") {
				t.Errorf("stderr %q for exit %d", errb, code)
			}
		})
	}
}

// TestCheckFailOn pins how --fail-on is read: severities and rule names
// in any case and spacing; anything else is a usage error naming the
// valid values.
func TestCheckFailOn(t *testing.T) {
	dir := t.TempDir()
	clean := writeFile(t, dir, "clean.log", login23(0, "alice@example.org", "198.51.100.23"))
	bf := writeFile(t, dir, "bf.log", repeat(4, func(i int) string { return fail23(i*20, "admin", "203.0.113.66", 3) }))
	allow := writeFile(t, dir, "allow.txt", "198.51.100.0/24\n")
	noBF := writeFile(t, dir, "no-bf.toml", "[brute_force]\nenabled = false\n")
	noAllow := writeFile(t, dir, "no-allow.toml", "[not_allowlisted]\nenabled = false\n")
	lowAllow := writeFile(t, dir, "low-allow.toml", "[not_allowlisted]\nseverity = \"low\"\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"severity in upper case", []string{"--allow", allow, "--fail-on", "MEDIUM", bf}, exitFindings, nil},
		{"spaces around items", []string{"--allow", allow, "--fail-on", " critical , Brute-Force ", bf}, exitFindings, nil},
		{"rule that did not fire", []string{"--allow", allow, "--fail-on", "cleartext-auth", bf}, exitOK, nil},
		{"config-file spelling of a rule", []string{"--allow", allow, "--fail-on", "brute_force", bf}, exitUsage,
			[]string{"--fail-on", `"brute_force"`, "account-compromise, brute-force, cleartext-auth, cloud-intermediary, distributed-attack, impossible-travel, new-device, not-allowlisted, password-spray, spray-campaign, stale-credentials, success-after-failures"}},
		{"unknown severity", []string{"--allow", allow, "--fail-on", "severe", bf}, exitUsage, []string{"info, low, medium, high, critical"}},
		{"trailing comma", []string{"--allow", allow, "--fail-on", "high,", bf}, exitUsage, []string{"empty item"}},
		{"severity including not-allowlisted needs --allow", []string{"--fail-on", "medium", bf}, exitUsage, []string{"--allow"}},
		{"critical does not need --allow", []string{"--fail-on", "critical", clean}, exitOK, nil},
		{"not-allowlisted configured low is not in medium", []string{"--config", lowAllow, "--fail-on", "medium", clean}, exitOK, nil},
		{"a rule the config disables cannot gate", []string{"--config", noBF, "--fail-on", "brute-force", bf}, exitUsage, []string{"brute-force", "disables"}},
		{"the default gate disabled by the config", []string{"--config", noAllow, "--allow", allow, clean}, exitUsage, []string{"not-allowlisted", "disables"}},
		{"unreadable config", []string{"--config", filepath.Join(dir, "none.toml"), "--fail-on", "high", clean}, exitError, []string{"none.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errb := runCheckIn(t, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errb)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errb, s) {
					t.Errorf("stderr %q does not mention %q", errb, s)
				}
			}
		})
	}
}

// TestCheckFormats renders one failing login of a hostile user name in
// every format check offers.
func TestCheckFormats(t *testing.T) {
	dir := t.TempDir()
	user := "evil%0A::error title=x::pwned,a:b"
	log := writeFile(t, dir, "mail,1.log", login23(0, "alice@example.org", "198.51.100.23")+login23(60, user, "::ffff:6.6.6.6"))
	allow := writeFile(t, dir, "allow.txt", "198.51.100.0/24\n")
	run := func(t *testing.T, format string) string {
		t.Helper()
		code, out, errb := runCheckIn(t, []string{"--allow", allow, "--format", format, log})
		if code != exitFindings {
			t.Fatalf("exit %d, want 1; stderr %s", code, errb)
		}
		return out
	}
	t.Run("jsonl", func(t *testing.T) {
		fs := jsonlEvents(t, run(t, "jsonl"))
		// User names are reported in their canonical (lower-case) form.
		if len(fs) != 1 || fs[0]["user"] != strings.ToLower(user) || fs[0]["rip"] != "6.6.6.6" || fs[0]["severity"] != "high" {
			t.Fatalf("findings %v", fs)
		}
		if ev, _ := fs[0]["evidence"].([]any); len(ev) != 1 || ev[0] != log+":2" {
			t.Errorf("evidence %v, want [%s:2]", fs[0]["evidence"], log)
		}
	})
	t.Run("json", func(t *testing.T) {
		var doc struct {
			Findings []map[string]any `json:"findings"`
		}
		if err := json.Unmarshal([]byte(run(t, "json")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Findings) != 1 || doc.Findings[0]["rule"] != "not-allowlisted" || doc.Findings[0]["user"] != strings.ToLower(user) {
			t.Errorf("findings %v", doc.Findings)
		}
	})
	t.Run("csv", func(t *testing.T) {
		rows, err := csv.NewReader(strings.NewReader(run(t, "csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !slices.Contains(rows[0], "rule") || !slices.Contains(rows[1], "not-allowlisted") || !slices.Contains(rows[1], "6.6.6.6") {
			t.Errorf("rows %q", rows)
		}
	})
	t.Run("table", func(t *testing.T) {
		out := run(t, "table")
		if !strings.Contains(out, "not-allowlisted") || !strings.Contains(out, "6.6.6.6") {
			t.Errorf("table:\n%s", out)
		}
	})
	t.Run("github", func(t *testing.T) {
		out := run(t, "github")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1 {
			t.Fatalf("%d annotation lines:\n%s", len(lines), out)
		}
		// The file property escapes "," and ":"; the line is the login's.
		file := strings.NewReplacer("%", "%25", ",", "%2C", ":", "%3A").Replace(log)
		prefix := "::error file=" + file + ",line=2,title=not-allowlisted::"
		if !strings.HasPrefix(lines[0], prefix) {
			t.Errorf("annotation %q\ndoes not start with %q", lines[0], prefix)
		}
		msg := strings.TrimPrefix(lines[0], prefix)
		// "%" in the data is escaped, so the user cannot inject a line
		// break or a second command.
		if !strings.Contains(msg, "evil%250a::error") || strings.Contains(msg, "evil%0a") {
			t.Errorf("message not escaped: %q", msg)
		}
	})
	t.Run("clean", func(t *testing.T) {
		// A clean table check is silent (cron mails any output); the
		// machine formats still print their empty document.
		good := writeFile(t, dir, "good.log", login23(0, "alice@example.org", "198.51.100.23"))
		for format, want := range map[string]string{"table": "", "jsonl": "", "json": "{\"findings\": []}\n", "github": ""} {
			code, out, errb := runCheckIn(t, []string{"--allow", allow, "--format", format, good})
			if code != exitOK || out != want || errb != "" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0, %q", format, code, out, errb, want)
			}
		}
	})
	t.Run("malformed line annotation", func(t *testing.T) {
		bad := writeFile(t, dir, "bad.log", login23(0, "alice@example.org", "198.51.100.23")+malformedLine)
		code, out, errb := runCheckIn(t, []string{"--allow", allow, "--format", "github", bad})
		if code != exitFindings || !strings.HasPrefix(out, "::error file="+bad+",line=2,title=malformed-login-line::") {
			t.Errorf("exit %d, annotation %q; stderr %s", code, out, errb)
		}
	})
}
