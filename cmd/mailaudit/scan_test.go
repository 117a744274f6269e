package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/logfile"
)

// isolated returns flags that keep a test away from the machine's caches,
// state and GeoIP databases.
func isolated(t *testing.T) []string {
	t.Helper()
	d := t.TempDir()
	return []string{"--cache-dir", filepath.Join(d, "cache"), "--state-dir", filepath.Join(d, "state"), "--no-geoip", "--year", "2026", "--tz", "UTC", "--progress", "never"}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// jsonlEvents decodes `scan --events --format jsonl` output.
func jsonlEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad jsonl line %q: %v", sc.Text(), err)
		}
		evs = append(evs, m)
	}
	return evs
}

const (
	loginA = "Nov 20 08:01:12 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.10, mpid=1, TLS, session=<a1>\n"
	loginB = "Nov 20 08:02:12 mx1 dovecot: imap-login: Login: user=<bob@example.org>, method=PLAIN, rip=198.51.100.24, lip=192.0.2.10, mpid=2, TLS, session=<b1>\n"
	loginC = "Nov 20 08:03:12 mx1 dovecot: imap-login: Logged in: user=<carol@example.org>, method=PLAIN, rip=52.98.204.101, lip=192.0.2.10, mpid=3, TLS, session=<c1>\n"
	noise  = "Nov 20 08:03:13 mx1 postfix/qmgr[988]: 4Xk2Lq1zYnz9sWd: removed\n"
)

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.log", loginA)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(loginA, 50)))
	zw.Close()
	trunc := writeFile(t, dir, "trunc.log.gz", gz.String()[:gz.Len()/2])
	allow := writeFile(t, dir, "allow.txt", "# office\n198.51.100.0/24\n")
	badAllow := writeFile(t, dir, "bad-allow.txt", "198.51.100.0/24\n300.1.2.3\n")
	foreign := writeFile(t, dir, "foreign.log", loginC)
	iso := isolated(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"scan ok", []string{"scan", good}, exitOK, ""},
		{"no command", nil, exitUsage, "no command"},
		{"unknown command", []string{"bogus"}, exitUsage, "unknown command"},
		{"unknown flag", []string{"scan", "--bogus", good}, exitUsage, "unknown flag"},
		{"no files", []string{"scan"}, exitUsage, "needs at least one log FILE"},
		{"bad format", []string{"scan", "--format", "xml", good}, exitUsage, "--format"},
		{"bad since", []string{"scan", "--since", "yesterday-ish", good}, exitUsage, "--since"},
		{"missing file, others scanned", []string{"scan", filepath.Join(dir, "nope.log"), good}, exitError, "nope.log"},
		{"truncated gz", []string{"scan", trunc}, exitError, "trunc.log.gz"},
		{"check clean", []string{"check", "--allow", allow, good}, exitOK, ""},
		{"check finding", []string{"check", "--allow", allow, foreign}, exitFindings, "check failed"},
		{"check missing file fails closed", []string{"check", "--allow", allow, good, filepath.Join(dir, "nope.log")}, exitError, "nope.log"},
		{"check bad allowlist", []string{"check", "--allow", badAllow, good}, exitError, "bad-allow.txt:2"},
		{"check without allowlist", []string{"check", good}, exitUsage, "--allow"},
		{"check bad fail-on", []string{"check", "--allow", allow, "--fail-on", "no-such-rule", good}, exitUsage, "no-such-rule"},
		{"check empty fail-on", []string{"check", "--allow", allow, "--fail-on", "", good}, exitUsage, "--fail-on is empty"},
		{"check default threshold without allowlist", []string{"check", good}, exitUsage, "default --fail-on, not-allowlisted"},
		{"bad progress", []string{"scan", "--progress", "sometimes", good}, exitUsage, "--progress"},
		{"year typo", []string{"scan", "--year", "26", good}, exitUsage, "--year"},
		{"negative year", []string{"scan", "--year", "-5", good}, exitUsage, "--year"},
		{"from-start without follow", []string{"scan", "--from-start", good}, exitUsage, "--from-start only works with --follow"},
		{"interval without follow", []string{"scan", "--interval", "1s", good}, exitUsage, "--interval only works with --follow"},
		{"zero interval", []string{"scan", "--follow", "--interval", "0s", good}, exitUsage, "--interval must be positive"},
		{"since after until", []string{"scan", "--since", "2026-11-21", "--until", "2026-11-20", good}, exitUsage, "not before --until"},
		{"since in days", []string{"scan", "--since", "7d", good}, exitOK, ""},
		{"help for a command", []string{"help", "scan"}, exitOK, ""},
		{"help for a subcommand", []string{"help", "report", "insecure"}, exitOK, ""},
		{"help for an unknown topic", []string{"help", "bogus"}, exitUsage, `unknown help topic "bogus"`},
		{"help for an unknown subcommand", []string{"help", "ranges", "bogus"}, exitUsage, `unknown help topic "ranges bogus"`},
		{"ranges alone", []string{"ranges"}, exitUsage, "needs a subcommand: list, lookup, update"},
		{"ranges unknown subcommand", []string{"ranges", "bogus"}, exitUsage, `unknown command "bogus"`},
		{"ranges lookup without address", []string{"ranges", "lookup"}, exitUsage, "needs at least one IP address"},
		{"baseline alone", []string{"baseline"}, exitUsage, "needs a subcommand: confirm, forget, list"},
		{"baseline unknown subcommand", []string{"baseline", "bogus"}, exitUsage, `unknown command "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 && (args[0] == "scan" || args[0] == "check") {
				args = append(append([]string{args[0]}, iso...), args[1:]...)
			}
			var out, errb bytes.Buffer
			code := Main(args, strings.NewReader(""), &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errb.String())
			}
			if tt.stderr != "" && !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tt.stderr)
			}
			if tt.stderr == "" && errb.Len() > 0 {
				t.Errorf("unexpected stderr: %s", errb.String())
			}
		})
	}
}

// TestCheckNamesTheLogin pins the default check's report: user, address
// and file:line of a login from outside the allowlist.
func TestCheckNamesTheLogin(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA+noise+loginC)
	allow := writeFile(t, dir, "allow.txt", "198.51.100.0/24\n")
	args := append(append([]string{"check"}, isolated(t)...), "--allow", allow, "--format", "jsonl", log)
	var out, errb bytes.Buffer
	if code := Main(args, nil, &out, &errb); code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr %s", code, errb.String())
	}
	fs := jsonlEvents(t, out.String())
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1:\n%s", len(fs), out.String())
	}
	f := fs[0]
	if f["rule"] != "not-allowlisted" || f["user"] != "carol@example.org" || f["rip"] != "52.98.204.101" {
		t.Errorf("finding = %v", f)
	}
	if ev, _ := f["evidence"].([]any); len(ev) != 1 || ev[0] != log+":3" {
		t.Errorf("evidence = %v, want [%s:3]", f["evidence"], log)
	}
}

// TestCheckFailsOnMalformed: a login-looking line that cannot be parsed
// fails the check even when nothing else would.
func TestCheckFailsOnMalformed(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA+"Nov 20 08:05:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=198.51.100.999, lip=192.0.2.10, TLS\n")
	allow := writeFile(t, dir, "allow.txt", "198.51.100.0/24\n")
	args := append(append([]string{"check"}, isolated(t)...), "--allow", allow, "--fail-on", "critical", "--format", "jsonl", log)
	var out, errb bytes.Buffer
	if code := Main(args, nil, &out, &errb); code != exitFindings {
		t.Fatalf("exit %d, want 1; stdout %s stderr %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"rule":"malformed-login-line"`) || !strings.Contains(out.String(), log+":2") {
		t.Errorf("output does not report the malformed line:\n%s", out.String())
	}
}

// TestScanState runs scan --state as cron would: each run reports only
// what was added since the last, through a rename+create rotation, and a
// half-written last line waits for the next run.
func TestScanState(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA+noise)
	state := filepath.Join(dir, "scan.state")
	iso := isolated(t)
	run := func() []string {
		t.Helper()
		// As cron runs it: a glob that also names the rotated generation.
		args := append(append([]string{"scan"}, iso...), "--state", state, "--events", "--format", "jsonl", log, log+".1")
		var out, errb bytes.Buffer
		if code := Main(args, nil, &out, &errb); code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var users []string
		for _, ev := range jsonlEvents(t, out.String()) {
			users = append(users, ev["user"].(string))
		}
		return users
	}
	if got := strings.Join(run(), ","); got != "alice@example.org" {
		t.Fatalf("first run: %s", got)
	}
	if got := strings.Join(run(), ","); got != "" {
		t.Fatalf("second run, nothing new: %s", got)
	}
	// A half-written line is not read until it is complete.
	appendFile(t, log, loginB+loginC[:40])
	if got := strings.Join(run(), ","); got != "bob@example.org" {
		t.Fatalf("third run: %s", got)
	}
	// Rotation: the rest of the line lands in the renamed file, then a new
	// file starts.
	appendFile(t, log, loginC[40:])
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mail.log", loginA)
	if got := strings.Join(run(), ","); got != "carol@example.org,alice@example.org" {
		t.Fatalf("after rotation: %s", got)
	}
}

// TestScanFollow follows a file through a rotation until cancelled, then
// checks that every event came out once, in order.
func TestScanFollow(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", noise)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// --from-start: the file's noise line is read and ignored, so no line
	// appended below can be missed however late the follower starts.
	args := append(append([]string{"scan"}, isolated(t)...), "--follow", "--from-start", "--interval", "5ms", "--events", "--format", "jsonl", log)
	out := &lockedBuffer{}
	done := make(chan int)
	go func() { done <- mainContext(ctx, args, nil, out, &bytes.Buffer{}) }()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(out.String(), "\n") < n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %d events, have:\n%s", n, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	appendFile(t, log, loginA)
	waitFor(1)
	appendFile(t, log, loginB)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mail.log", loginC)
	waitFor(3)
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var users []string
	for _, ev := range jsonlEvents(t, out.String()) {
		users = append(users, ev["user"].(string))
	}
	if got := strings.Join(users, ","); got != "alice@example.org,bob@example.org,carol@example.org" {
		t.Errorf("events %s", got)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestScanStdinJournal reads journalctl -o json from stdin, where the
// program comes from SYSLOG_IDENTIFIER and forged identifiers are ignored.
func TestScanStdinJournal(t *testing.T) {
	in := `{"__REALTIME_TIMESTAMP":"1763625672000000","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.10, mpid=1, TLS, session=<a1>"}
{"__REALTIME_TIMESTAMP":"1763625673000000","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"www-data","MESSAGE":"imap-login: Login: user=<mallory>, method=PLAIN, rip=6.6.6.6, lip=192.0.2.10, TLS"}
`
	args := append(append([]string{"scan"}, isolated(t)...), "--events", "--format", "jsonl", "-")
	var out, errb bytes.Buffer
	if code := Main(args, strings.NewReader(in), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	evs := jsonlEvents(t, out.String())
	if len(evs) != 1 || evs[0]["user"] != "alice@example.org" || evs[0]["file"] != "stdin" || evs[0]["line"] != 1.0 {
		t.Errorf("events = %v", evs)
	}
}

// TestScanHistory: --user gives that mailbox's accesses (the name as
// Dovecot compares it: case does not matter) in time order,
// across files given newest first.
func TestScanHistory(t *testing.T) {
	dir := t.TempDir()
	older := writeFile(t, dir, "mail.log.1", loginA+loginB)
	newer := writeFile(t, dir, "mail.log", strings.Replace(loginA, "08:01:12", "09:00:00", 1)+loginC)
	args := append(append([]string{"scan"}, isolated(t)...), "--user", "Alice@Example.org", "--since", "2026-11-20", "--until", "2026-11-20", "--format", "jsonl", newer, older)
	var out, errb bytes.Buffer
	if code := Main(args, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	evs := jsonlEvents(t, out.String())
	if len(evs) != 2 || evs[0]["time"] != "2026-11-20T08:01:12Z" || evs[1]["time"] != "2026-11-20T09:00:00Z" {
		t.Errorf("history = %v", evs)
	}
}

// TestScanFollowState: a restarted follower (systemd service) continues
// where the last one stopped, also for lines written while it was down.
func TestScanFollowState(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA)
	state := filepath.Join(dir, "follow.state")
	iso := isolated(t)
	follow := func(want int) []string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		args := append(append([]string{"scan"}, iso...), "--follow", "--state", state, "--interval", "5ms", "--events", "--format", "jsonl", log)
		out := &lockedBuffer{}
		done := make(chan int)
		go func() { done <- mainContext(ctx, args, nil, out, &bytes.Buffer{}) }()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(out.String(), "\n") < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // nothing more may come
		cancel()
		if code := <-done; code != exitOK {
			t.Fatalf("exit %d", code)
		}
		var users []string
		for _, ev := range jsonlEvents(t, out.String()) {
			users = append(users, ev["user"].(string))
		}
		return users
	}
	// The first start has no saved position: it reads from the start.
	if got := strings.Join(follow(1), ","); got != "alice@example.org" {
		t.Fatalf("first start: %s", got)
	}
	appendFile(t, log, loginB)
	if got := strings.Join(follow(1), ","); got != "bob@example.org" {
		t.Fatalf("after restart: %s", got)
	}
}

// TestCorpusCLI scans the real public sample logs in ../shared/corpus
// (absent in a user's clone: skipped) through the whole CLI: every file
// must scan cleanly and yield events.
func TestCorpusCLI(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "*.log"))
	if len(files) == 0 {
		t.Skip("../shared/corpus not present")
	}
	iso := isolated(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			args := append(append([]string{"scan"}, iso...), "--events", "--format", "jsonl", f)
			var out, errb bytes.Buffer
			if code := Main(args, nil, &out, &errb); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if evs := jsonlEvents(t, out.String()); len(evs) == 0 {
				t.Errorf("no events from %s", f)
			}
		})
	}
}

// TestScanStateDamagedGeneration: a rotated generation compressed and cut
// short is reported (exit 3) and skipped past, so the log goes on with the
// new file and the next run does not stop at the same place again.
func TestScanStateDamagedGeneration(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", strings.Repeat(loginA, 40))
	state := filepath.Join(dir, "scan.state")
	iso := isolated(t)
	run := func() (int, map[string]int, string) {
		t.Helper()
		args := append(append([]string{"scan"}, iso...), "--state", state, "--events", "--format", "jsonl", log)
		var out, errb bytes.Buffer
		code := Main(args, nil, &out, &errb)
		users := map[string]int{}
		for _, ev := range jsonlEvents(t, out.String()) {
			users[ev["user"].(string)]++
		}
		return code, users, errb.String()
	}
	if code, users, _ := run(); code != exitOK || users["alice@example.org"] != 40 {
		t.Fatalf("first run: exit %d, %v", code, users)
	}
	// logrotate with compress: mail.log.1.gz, cut short (a full disk).
	appendFile(t, log, strings.Repeat(loginB, 400))
	whole, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(whole)
	zw.Close()
	writeFile(t, dir, "mail.log.1.gz", gz.String()[:gz.Len()*3/4])
	writeFile(t, dir, "mail.log", loginC)

	code, users, stderr := run()
	if code != exitError || !strings.Contains(stderr, "mail.log.1.gz") {
		t.Fatalf("second run: exit %d, stderr %q; want 3 naming the damaged file", code, stderr)
	}
	if users["bob@example.org"] == 0 || users["bob@example.org"] >= 400 || users["carol@example.org"] != 1 {
		t.Fatalf("second run delivered %v: want some of bob's lines (up to the damage), then carol's", users)
	}
	if code, users, _ := run(); code != exitOK || len(users) != 0 {
		t.Fatalf("third run: exit %d, %v; want nothing new", code, users)
	}
}

// TestScanFollowNotThere: following a path that does not exist waits for
// it (a log being rotated in), but says so, so that a typo does not look
// like a quiet server; a directory is an error naming it, not a line.
func TestScanFollowNotThere(t *testing.T) {
	dir := t.TempDir()
	iso := isolated(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the follower stops at once: only what is said first counts
	var out, errb bytes.Buffer
	missing := filepath.Join(dir, "mail.lgo")
	args := append(append([]string{"scan"}, iso...), "--follow", missing)
	if code := mainContext(ctx, args, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if want := "warning: " + missing + " does not exist (yet)"; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}

	errb.Reset()
	args = append(append([]string{"scan"}, iso...), "--follow", dir)
	code := mainContext(context.Background(), args, nil, &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), dir) || strings.Contains(errb.String(), "line 0") {
		t.Errorf("following a directory: exit %d, stderr %q; want %d naming it, without a line 0", code, errb.String(), exitError)
	}
}

// TestScanStateNewDir: the first cron run names a state file in a
// directory that does not exist yet; it is made.
func TestScanStateNewDir(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA)
	state := filepath.Join(dir, "var", "lib", "mailaudit", "scan.state")
	args := append(append([]string{"scan"}, isolated(t)...), "--baseline", "memory", "--state", state, "--events", "--format", "jsonl", log)
	code, out, errs := runMain(args...)
	if code != exitOK || len(jsonlEvents(t, out)) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("state not saved: %v", err)
	}
	if code, out, errs := runMain(args...); code != exitOK || out != "" {
		t.Errorf("second run: exit %d, stdout %q (want nothing new), stderr %q", code, out, errs)
	}
}

// TestScanStateFirstRunGlob: the first --state run over mail.log* reads
// the rotated generations it names (there is no saved position to resume
// them from), oldest first; the next runs read only what is new.
func TestScanStateFirstRunGlob(t *testing.T) {
	dir := t.TempDir()
	cur := writeFile(t, dir, "mail.log", loginB)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(loginA))
	zw.Close()
	old := writeFile(t, dir, "mail.log.1.gz", gz.String())
	state := filepath.Join(dir, "scan.state")
	args := append(append([]string{"scan"}, isolated(t)...), "--baseline", "memory", "--state", state, "--events", "--format", "jsonl", cur, old)
	users := func() string {
		t.Helper()
		code, out, errs := runMain(args...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var us []string
		for _, ev := range jsonlEvents(t, out) {
			us = append(us, ev["user"].(string))
		}
		return strings.Join(us, ",")
	}
	if got := users(); got != "alice@example.org,bob@example.org" {
		t.Errorf("first run: %q, want alice (mail.log.1.gz) then bob (mail.log)", got)
	}
	if got := users(); got != "" {
		t.Errorf("second run: %q, want nothing", got)
	}
	appendFile(t, cur, loginC)
	if got := users(); got != "carol@example.org" {
		t.Errorf("third run: %q, want carol", got)
	}
}

// TestScanMergesLogs: two servers' logs given newest-first on the command
// line overlap in time; their events come out as one timeline, and the
// rules see the failures on one server before the success on the other.
func TestScanMergesLogs(t *testing.T) {
	dir := t.TempDir()
	fail := func(min int, user string) string {
		return fmt.Sprintf("Nov 20 10:%02d:00 mx1 dovecot: imap-login: Disconnected: Connection closed (auth failed, 3 attempts in 9 secs): user=<%s>, method=PLAIN, rip=203.0.113.66, lip=192.0.2.10, TLS, session=<f%d>\n", min, user, min)
	}
	a := writeFile(t, dir, "mx1.log", fail(0, "erin@example.org")+fail(1, "erin@example.org")+fail(2, "erin@example.org")+
		strings.Replace(loginA, "08:01:12", "10:09:00", 1))
	b := writeFile(t, dir, "mx2.log", strings.NewReplacer("mx1", "mx2", "08:02:12", "10:03:00", "bob@example.org", "erin@example.org", "198.51.100.24", "203.0.113.66").Replace(loginB))
	iso := isolated(t)

	var out, errb bytes.Buffer
	if code := Main(append(append([]string{"scan"}, iso...), "--events", "--format", "jsonl", b, a), nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var times []string
	for _, ev := range jsonlEvents(t, out.String()) {
		times = append(times, ev["time"].(string))
	}
	if !slices.IsSorted(times) || len(times) != 5 {
		t.Errorf("events not one timeline: %v", times)
	}

	out.Reset()
	if code := Main(append(append([]string{"scan"}, iso...), "--format", "jsonl", b, a), nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"rule":"success-after-failures"`) {
		t.Errorf("no success-after-failures across the two logs:\n%s", out.String())
	}
}

// TestScanFollowStateSavedWhileRunning: `scan -f --state` saves its
// position while it runs (each interval with new output), so a kill -9
// (OOM, a crash loop under Restart=on-failure) does not repeat everything
// since the last clean stop (issue 10).
func TestScanFollowStateSavedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", noise)
	state := filepath.Join(dir, "follow.state")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := append(append([]string{"scan"}, isolated(t)...), "--follow", "--state", state, "--interval", "10ms", "--events", "--format", "jsonl", log)
	out := &lockedBuffer{}
	done := make(chan int)
	go func() { done <- mainContext(ctx, args, nil, out, &bytes.Buffer{}) }()
	appendFile(t, log, loginA+loginB)
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := logfile.LoadState(state)
		if err == nil && st.Entry(log).Offset == fi.Size() {
			break // saved while still running: nothing to repeat
		}
		if time.Now().After(deadline) {
			t.Fatalf("state not saved while running (entry %+v, err %v); output:\n%s", st, err, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

// TestScanStateFirstRunReadsRotated: a first run (no saved position) of a
// named log reads its rotated generations first, oldest first, as the
// glob case does: a first run killed before its first save, followed by
// a rotation, must not leave the rotated lines unread for good (issue 10).
func TestScanStateFirstRunReadsRotated(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mail.log.2.gz", "")
	if err := os.Remove(filepath.Join(dir, "mail.log.2.gz")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mail.log.1", loginA)
	log := writeFile(t, dir, "mail.log", loginB)
	state := filepath.Join(dir, "scan.state")
	args := append(append([]string{"scan"}, isolated(t)...), "--state", state, "--events", "--format", "jsonl", log)
	code, out, errb := runMain(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var users []string
	for _, ev := range jsonlEvents(t, out) {
		users = append(users, ev["user"].(string))
	}
	if got := strings.Join(users, ","); got != "alice@example.org,bob@example.org" {
		t.Errorf("first run read %s, want alice (mail.log.1) then bob", got)
	}
	// The next run reads only what is new.
	appendFile(t, log, loginC)
	if code, out, errb = runMain(args...); code != exitOK || strings.Count(out, "\n") != 1 || !strings.Contains(out, "carol") {
		t.Errorf("second run: exit %d, %q, %s", code, out, errb)
	}
}

// TestScanStateGap: the rotated file holding the saved position is gone
// (rotate 1, two rotations between runs): the run reads what is there
// but exits 3 naming the log and what is missing (issue 10).
func TestScanStateGap(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA)
	state := filepath.Join(dir, "scan.state")
	args := append(append([]string{"scan"}, isolated(t)...), "--state", state, "--events", "--format", "jsonl", log)
	if code, _, errb := runMain(args...); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, errb)
	}
	appendFile(t, log, loginB)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mail.log", noise)
	if err := os.Rename(log, log+".1"); err != nil { // rotate 1: the old .1 is gone
		t.Fatal(err)
	}
	writeFile(t, dir, "mail.log", loginC)
	code, out, errb := runMain(args...)
	if code != exitError || !strings.Contains(errb, log+": the rotated file holding the saved position (after line 1) is gone") {
		t.Errorf("exit %d, stderr %q; want 3 naming %s and the gap", code, errb, log)
	}
	if !strings.Contains(out, "carol") {
		t.Errorf("what is there was not read: %q", out)
	}
}

// TestScanFollowDrainsAtStop: a follower whose state goes nowhere (an
// in-memory baseline) judges the failures still waiting for attribution
// when it stops, so an attack at the end of its watch is reported.
func TestScanFollowDrainsAtStop(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", noise)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := append(append([]string{"scan"}, isolated(t)...), "--follow", "--from-start", "--interval", "5ms",
		"--baseline", "memory", "--format", "jsonl", log)
	out := &lockedBuffer{}
	done := make(chan int)
	go func() { done <- mainContext(ctx, args, nil, out, &bytes.Buffer{}) }()
	appendFile(t, log, repeat(12, func(i int) string { return fail23(i, "carol@example.org", "203.0.113.66", 1) }))
	// The failures wait 15 minutes of log time for an explanation: nothing
	// is reported while following.
	time.Sleep(time.Second)
	if s := out.String(); s != "" {
		t.Fatalf("reported before the failures were attributed:\n%s", s)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), `"rule":"brute-force"`) {
		t.Errorf("no brute-force reported at stop:\n%s", out.String())
	}
}
