package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// customLogin is a login line of a Dovecot whose login_log_format_elements
// adds orig_user=<%{orig_user}> after the rip.
func customLogin(sec int, user, ip string) string {
	return fmt.Sprintf("%s mx1 dovecot: imap-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.10, orig_user=<%s>, mpid=2210, TLS, session=<b7Hq1Q0JqMDGM2Qz>\n", stamp(sec), user, ip, user)
}

// customFormatConfig declares customLogin's format.
const customFormatConfig = "[parse]\nlogin_log_format_elements = \"user=<%u> method=%m rip=%r lip=%l orig_user=<%{orig_user}> mpid=%e %c session=<%{session}>\"\n"

// TestCheckFailsClosed is the hostile-input suite of check: every kind of
// input it cannot read or understand (a typo in a list, an over-long or
// oddly terminated line, the wrong file, a list that would silence the
// rules, a file named twice, a customised Dovecot format) must make it
// fail, exit 3 naming the file (and line) or exit 1 naming the rule, never
// pass. Each case names the issue 10 item it pins.
func TestCheckFailsClosed(t *testing.T) {
	outside := login23(60, "alice@example.org", "203.0.113.50")
	inside := login23(0, "alice@example.org", "198.51.100.23")
	tests := []struct {
		name   string
		files  []logFile
		allow  string
		ranges string
		args   []string
		code   int
		stderr []string // each must appear on stderr ("$DIR" is the test directory)
		rules  []string // rules of the failing findings, sorted
	}{
		{name: "1 allowlist CIDR with host bits set",
			files: []logFile{{"mail.log", outside}}, allow: "198.51.100.7/2\n",
			code: exitError, stderr: []string{"$DIR/allow.txt:1: ", "host bits set"}},
		{name: "1 allowlist unknown provider",
			files: []logFile{{"mail.log", outside}}, allow: "provider:mircosoft alice@example.org\n",
			code: exitError, stderr: []string{"$DIR/allow.txt:1: ", `unknown provider "mircosoft"`, "microsoft"}},
		{name: "1 allowlist provider of the user's own range list",
			files: []logFile{{"mail.log", outside}}, allow: "provider:acme alice@example.org\n",
			ranges: "203.0.113.0/24 acme-vpn acme intermediary Acme VPN\n", code: exitOK},
		{name: "2 a login in a line over 64 KiB",
			files: []logFile{{"mail.log", inside + strings.TrimSuffix(login23(60, "alice@example.org"+strings.Repeat("x", 70<<10), "203.0.113.50"), "\n") + "\n"}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"malformed-login-line"}},
		{name: "2 an over-long line from another program passes",
			files: []logFile{{"mail.log", inside + stamp(60) + " mx1 spamd[12]: " + strings.Repeat("x", 70<<10) + "\n"}},
			allow: "198.51.100.0/24\n", code: exitOK},
		{name: "3 CR-only line ends",
			files: []logFile{{"mail.log", strings.ReplaceAll(inside+outside+inside, "\n", "\r")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"}},
		{name: "4 no line from a mail program",
			files: []logFile{{"mail.log", inside}, {"auth.log", stamp(5) + " mx1 sshd[42]: Accepted publickey for root from 203.0.113.50 port 22\n"}},
			allow: "198.51.100.0/24\n", code: exitError, stderr: []string{"$DIR/auth.log", "no line from Dovecot or Postfix"}},
		{name: "4 a changed syslog ident",
			files: []logFile{{"mail.log", strings.ReplaceAll(outside, " dovecot: ", " dovecot-mx2: ")}},
			allow: "198.51.100.0/24\n", code: exitError, stderr: []string{"$DIR/mail.log", "no line from Dovecot or Postfix"}},
		{name: "4 an empty file passes",
			files: []logFile{{"mail.log", inside}, {"empty.log", ""}},
			allow: "198.51.100.0/24\n", code: exitOK},
		{name: "5 a range list labelling the whole Internet an intermediary",
			files: []logFile{{"mail.log", outside}}, args: []string{"--fail-on", "brute-force"},
			ranges: "# all\n0.0.0.0/0 everything microsoft intermediary\n",
			code:   exitError, stderr: []string{"$DIR/ranges.txt:2: ", "broader than /8"}},
		{name: "5 a broad IPv6 range",
			files: []logFile{{"mail.log", outside}}, args: []string{"--fail-on", "brute-force"},
			ranges: "2000::/3 everything\n",
			code:   exitError, stderr: []string{"$DIR/ranges.txt:1: ", "broader than /16"}},
		{name: "12 the same file named twice does not double the counts",
			files: []logFile{{"mail.log", repeat(6, func(i int) string { return fail23(i*20, "admin", "203.0.113.66", 1) })}},
			args:  []string{"--fail-on", "brute-force", "$DIR/mail.log", "$DIR/link.log"},
			code:  exitOK, stderr: []string{"$DIR/link.log", "same file as $DIR/mail.log", "read once"}},
		// Undeclared, a customised login format fails naming the rule
		// and the config key; declared, its lines parse and the gate
		// judges the logins.
		{name: "14 a custom login format fails naming the rule",
			files: []logFile{{"mail.log", customLogin(0, "alice@example.org", "198.51.100.23")}},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"malformed-login-line"},
			stderr: []string{"malformed-login-line", "login_log_format_elements"}},
		{name: "14 a declared custom login format passes",
			files: []logFile{{"mail.log", customLogin(0, "alice@example.org", "198.51.100.23")}, {"mailaudit.toml", customFormatConfig}},
			args:  []string{"--config", "$DIR/mailaudit.toml", "$DIR/mail.log"},
			allow: "198.51.100.0/24\n", code: exitOK},
		{name: "14 a declared custom login format finds the unlisted login",
			files: []logFile{{"mail.log", customLogin(0, "alice@example.org", "198.51.100.23") + customLogin(60, "bob@example.org", "203.0.113.9")}, {"mailaudit.toml", customFormatConfig}},
			args:  []string{"--config", "$DIR/mailaudit.toml", "$DIR/mail.log"},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"not-allowlisted"},
			stderr: []string{"not-allowlisted"}},
		{name: "14 an injected rip in a declared format's user is malformed",
			files: []logFile{{"mail.log", customLogin(0, "x>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.10, orig_user=<x", "203.0.113.9")}, {"mailaudit.toml", customFormatConfig}},
			args:  []string{"--config", "$DIR/mailaudit.toml", "$DIR/mail.log"},
			allow: "198.51.100.0/24\n", code: exitFindings, rules: []string{"malformed-login-line"},
			stderr: []string{"malformed-login-line"}},
		{name: "14 a declared format without rip is a config error",
			files: []logFile{{"mail.log", customLogin(0, "alice@example.org", "198.51.100.23")}, {"mailaudit.toml", "[parse]\nlogin_log_format_elements = \"user=<%u> lip=%l\"\n"}},
			args:  []string{"--config", "$DIR/mailaudit.toml", "$DIR/mail.log"},
			allow: "198.51.100.0/24\n", code: exitError, stderr: []string{"$DIR/mailaudit.toml", "no rip element"}},
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
			for _, f := range tt.files {
				writeFile(t, dir, f.name, f.text)
			}
			if err := os.Symlink(filepath.Join(dir, "mail.log"), filepath.Join(dir, "link.log")); err != nil {
				t.Fatal(err)
			}
			named := false
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "$DIR", dir))
				named = named || strings.HasPrefix(a, "$DIR/")
			}
			if !named {
				for _, f := range tt.files {
					args = append(args, filepath.Join(dir, f.name))
				}
			}
			code, out, errb := runCheckIn(t, args)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, tt.code, errb, out)
			}
			for _, s := range tt.stderr {
				if s = strings.ReplaceAll(s, "$DIR", dir); !strings.Contains(errb, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errb)
				}
			}
			var got []string
			if code != exitError {
				for _, f := range jsonlEvents(t, out) {
					got = append(got, fmt.Sprint(f["rule"]))
				}
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tt.rules) {
				t.Errorf("failing rules %q, want %q\n%s", got, tt.rules, out)
			}
			if code == exitFindings {
				for _, r := range tt.rules {
					if !strings.Contains(errb, r) {
						t.Errorf("the check failed message does not name %s: %q", r, errb)
					}
				}
			}
		})
	}
}
