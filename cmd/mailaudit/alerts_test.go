package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mailaudit/mailaudit/ipranges"
)

// receiver is a webhook endpoint that fails while down and records what
// it accepted.
type receiver struct {
	mu     sync.Mutex
	down   bool
	bodies []string
	sigs   []string
	types  []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, string(body))
	r.sigs = append(r.sigs, req.Header.Get("X-Mailaudit-Signature"))
	r.types = append(r.types, req.Header.Get("Content-Type"))
}

func (r *receiver) take() (bodies, sigs, types []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bodies, sigs, types = r.bodies, r.sigs, r.types
	r.bodies, r.sigs, r.types = nil, nil, nil
	return
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// sampleLog copies the sample log into dir.
func sampleLog(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNotifyWebhookOnceAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	log := sampleLog(t, dir)
	rcv := &receiver{down: true}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("  hunter2\n"), 0o600)
	state := filepath.Join(dir, "state", "scan.state")
	common := []string{"--cache-dir", dir, "--no-geoip", "--state-dir", filepath.Join(dir, "state"),
		"--notify", srv.URL + "/hook/token123", "--notify-secret-file", secretFile}
	scan := func() (int, string, string) {
		return runMain(append(append([]string{"scan", "--format", "jsonl", "--state", state}, common...), log)...)
	}

	// Run 1: the receiver is down: exit 3, the findings are kept.
	code, _, stderr := scan()
	if code != exitError {
		t.Fatalf("run 1 with the receiver down: exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
	if !strings.Contains(stderr, "notify http://127.0.0.1") || !strings.Contains(stderr, "kept to retry") || strings.Contains(stderr, "token123") {
		t.Errorf("run 1 stderr should name the target (without its token) and say what is kept:\n%s", stderr)
	}

	// Run 2: nothing new in the log, the receiver is back: what was
	// owed is delivered, signed, and the run is clean.
	rcv.setDown(false)
	code, _, stderr = scan()
	if code != exitOK {
		t.Fatalf("run 2: exit %d; stderr:\n%s", code, stderr)
	}
	bodies, sigs, types := rcv.take()
	// The bodies are the findings contract, exactly as --format jsonl
	// prints the findings at or above high.
	_, want, _ := runMain("scan", "--format", "jsonl", "--cache-dir", dir, "--no-geoip", log)
	var wantHigh []string
	for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
		var f struct{ Severity string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		if f.Severity == "high" || f.Severity == "critical" {
			wantHigh = append(wantHigh, line)
		}
	}
	if len(wantHigh) == 0 {
		t.Fatal("the sample log has no high findings: the test proves nothing")
	}
	slices.Sort(bodies)
	slices.Sort(wantHigh)
	if !slices.Equal(bodies, wantHigh) {
		t.Errorf("delivered bodies:\n%s\nwant the high findings of --format jsonl:\n%s", strings.Join(bodies, "\n"), strings.Join(wantHigh, "\n"))
	}
	mac := func(body string) string {
		m := hmac.New(sha256.New, []byte("hunter2"))
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	for i := range sigs {
		if types[i] != "application/json" {
			t.Errorf("Content-Type %q", types[i])
		}
	}
	// Signatures are checked against the body each came with (a fresh
	// state and state directory: the rules' state and the memory are new).
	fresh := filepath.Join(dir, "fresh")
	code, _, _ = runMain(append(append([]string{"scan", "--format", "jsonl", "--state", filepath.Join(fresh, "scan.state")}, append(common, "--state-dir", fresh)...), log)...)
	if code != exitOK {
		t.Fatalf("fresh state run: exit %d", code)
	}
	b2, s2, _ := rcv.take()
	if len(b2) != len(wantHigh) {
		t.Fatalf("a run with a fresh state (and so a fresh memory) sent %d, want %d", len(b2), len(wantHigh))
	}
	for i := range b2 {
		if s2[i] != mac(b2[i]) {
			t.Errorf("signature %q, want %q", s2[i], mac(b2[i]))
		}
	}

	// Run 3: nothing new: nothing sent.
	if code, _, stderr = scan(); code != exitOK {
		t.Fatalf("run 3: exit %d: %s", code, stderr)
	}
	if b, _, _ := rcv.take(); len(b) != 0 {
		t.Errorf("run 3 sent %d findings again", len(b))
	}

	// A replay (the state lost, the memory kept) sends nothing twice.
	os.Remove(state)
	if code, _, stderr = scan(); code != exitOK {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	if b, _, _ := rcv.take(); len(b) != 0 {
		t.Errorf("a replayed log sent %d findings again", len(b))
	}
}

func TestNotifyMailAndMin(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	log := sampleLog(t, dir)
	sendmail := filepath.Join(dir, "sendmail")
	os.WriteFile(sendmail, []byte("#!/bin/sh\necho \"$@\" >> "+dir+"/args\ncat >> "+dir+"/mails\n"), 0o755)
	allow := filepath.Join(dir, "allow.txt")
	os.WriteFile(allow, []byte("192.0.2.0/24\n"), 0o644)
	code, _, stderr := runMain("check", "--allow", allow, "--cache-dir", dir, "--no-geoip",
		"--notify", "mailto:postmaster@example.org", "--sendmail", sendmail, "--notify-min", "medium", log)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (findings); stderr:\n%s", code, exitFindings, stderr)
	}
	mails, _ := os.ReadFile(filepath.Join(dir, "mails"))
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if strings.TrimSpace(string(args)) != "-t" {
		t.Errorf("sendmail called with %q, want -t once", args)
	}
	n := strings.Count(string(mails), "\n- [")
	if !strings.Contains(string(mails), "To: postmaster@example.org\n") || !strings.Contains(string(mails), fmt.Sprintf("mailaudit: %d new finding(s)", n)) || n < 2 {
		t.Errorf("mail (%d findings listed):\n%s", n, mails)
	}
	if !strings.Contains(string(mails), "- [medium] cleartext-auth") || !strings.Contains(string(mails), "- [high] ") || strings.Contains(string(mails), "[info]") {
		t.Errorf("--notify-min medium: the mail should list medium and worse, no info:\n%s", mails)
	}

	// sendmail failing: exit 3 even though findings would exit 1.
	os.WriteFile(sendmail, []byte("#!/bin/sh\necho 'no queue' >&2\nexit 75\n"), 0o755)
	code, _, stderr = runMain("check", "--allow", allow, "--cache-dir", dir, "--no-geoip",
		"--notify", "mailto:postmaster@example.org", "--sendmail", sendmail, log)
	if code != exitError || !strings.Contains(stderr, "no queue") {
		t.Errorf("failed mail: exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
}

func TestNotifyUsage(t *testing.T) {
	dir := t.TempDir()
	log := sampleLog(t, dir)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--notify", "ftp://x"}, "want an http://"},
		{[]string{"--notify", "mailto:a@example.org", "--notify-min", "urgent"}, "--notify-min"},
		{[]string{"--notify-min", "low"}, "--notify-min needs --notify"},
		{[]string{"--sendmail", "/bin/true"}, "--sendmail needs --notify"},
	}
	for _, tt := range tests {
		code, _, stderr := runMain(append(append([]string{"scan", "--no-geoip", "--cache-dir", dir}, tt.args...), log)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// A secret file that is missing or empty is an error, not an unsigned hook.
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	for _, f := range []string{empty, filepath.Join(dir, "missing")} {
		code, _, stderr := runMain("scan", "--no-geoip", "--cache-dir", dir, "--notify", "http://127.0.0.1:1/", "--notify-secret-file", f, log)
		if code != exitError || !strings.Contains(stderr, f) {
			t.Errorf("secret %s: exit %d, stderr %q", f, code, stderr)
		}
	}
}

// TestConfigFileTargets: the config file's targets serve the recurring
// runs; a one-off scan alerts nobody unless told to.
func TestConfigFileTargets(t *testing.T) {
	dir := t.TempDir()
	log := sampleLog(t, dir)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := filepath.Join(dir, "mailaudit.toml")
	os.WriteFile(cfg, []byte("[notify]\ntargets = [\""+srv.URL+"\"]\nmin_severity = \"critical\"\n"), 0o644)
	base := []string{"scan", "--config", cfg, "--no-geoip", "--cache-dir", dir, "--state-dir", dir}
	if code, _, stderr := runMain(append(base, log)...); code != exitOK {
		t.Fatalf("one-off: exit %d: %s", code, stderr)
	}
	if b, _, _ := rcv.take(); len(b) != 0 {
		t.Errorf("a one-off scan notified the config's targets (%d)", len(b))
	}
	if code, _, stderr := runMain(append(base, "--state", filepath.Join(dir, "s.state"), log)...); code != exitOK {
		t.Fatalf("--state: exit %d: %s", code, stderr)
	}
	if b, _, _ := rcv.take(); len(b) != 1 || !strings.Contains(b[0], `"severity":"critical"`) {
		t.Errorf("--state run sent %q, want the one critical finding", b)
	}
	// A bad key in the table is named.
	os.WriteFile(cfg, []byte("[notify]\ntarget = []\n"), 0o644)
	if code, _, stderr := runMain(append(base, log)...); code != exitError || !strings.Contains(stderr, "unknown key notify.target") {
		t.Errorf("bad key: exit %d, stderr %q", code, stderr)
	}
}

func TestDefaultConfigFile(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc.toml")
	xdg := filepath.Join(dir, "xdg")
	userFile := filepath.Join(xdg, "mailaudit", "mailaudit.toml")
	old := etcConfig
	etcConfig = etc
	defer func() { etcConfig = old }()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return filepath.Join(dir, "home"), nil }
	check := func(name string, euid int, want string) {
		t.Helper()
		got, err := defaultConfigFileFor(euid, env(map[string]string{"XDG_CONFIG_HOME": xdg}), home)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	check("nothing there, root", 0, "")
	check("nothing there, user", 1000, "")
	os.WriteFile(etc, nil, 0o644)
	check("system file, root", 0, etc)
	check("system file, user", 1000, etc)
	os.MkdirAll(filepath.Dir(userFile), 0o755)
	os.WriteFile(userFile, nil, 0o644)
	check("user file, root", 0, etc)
	check("user file, user", 1000, userFile)
}

// parseProm parses a metrics file with the Prometheus text parser.
func parseProm(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Prometheus parser: %v\n%s", err, data)
	}
	return fams
}

func sumOf(f *dto.MetricFamily, match map[string]string) float64 {
	var s float64
	for _, m := range f.GetMetric() {
		ok := true
		for _, l := range m.GetLabel() {
			if v, in := match[l.GetName()]; in && v != l.GetValue() {
				ok = false
			}
		}
		if ok {
			s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return s
}

func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	log := sampleLog(t, dir)
	prom := filepath.Join(dir, "textfile", "mailaudit.prom")
	os.MkdirAll(filepath.Dir(prom), 0o755)
	state := filepath.Join(dir, "scan.state")
	args := []string{"scan", "--format", "json", "--no-geoip", "--cache-dir", dir, "--state-dir", dir, "--state", state, "--metrics-file", prom, log}
	before := time.Now()
	code, out, stderr := runMain(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Lines    int64 `json:"lines"`
		Findings []struct {
			Rule, Severity string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fams := parseProm(t, prom)
	for _, name := range []string{metLines, metEvents, metFindings, metMalformed, metLastRun, metDuration, metRangesAge} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	lines := sumOf(fams[metLines], nil)
	if lines != 38 {
		t.Errorf("%s = %v, want the sample's 38 lines", metLines, lines)
	}
	if got := sumOf(fams[metFindings], nil); int(got) != len(doc.Findings) || got == 0 {
		t.Errorf("%s sums to %v, the run printed %d findings", metFindings, got, len(doc.Findings))
	}
	if got := sumOf(fams[metFindings], map[string]string{"rule": "brute-force", "severity": "medium"}); got != 1 {
		t.Errorf("brute-force high = %v, want 1", got)
	}
	if got := sumOf(fams[metEvents], map[string]string{"kind": "login", "result": "success", "class": "intermediary", "provider": "microsoft"}); got == 0 {
		t.Errorf("no successful Microsoft intermediary logins counted")
	}
	if ts := sumOf(fams[metLastRun], nil); ts < float64(before.Unix())-1 || ts > float64(time.Now().Unix())+1 {
		t.Errorf("%s = %v, not now", metLastRun, ts)
	}
	if got := sumOf(fams[metRangesAge], map[string]string{"source": "builtin"}); got <= 0 {
		t.Errorf("%s{source=builtin} = %v", metRangesAge, got)
	}
	// The next run adds what was appended to the totals.
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("Nov 20 11:00:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.1, mpid=1, TLS, session=<x>\n")
	f.Close()
	if code, _, stderr := runMain(args...); code != exitOK {
		t.Fatalf("run 2: exit %d: %s", code, stderr)
	}
	fams = parseProm(t, prom)
	if got := sumOf(fams[metLines], nil); got != 39 {
		t.Errorf("after run 2 %s = %v, want 39 (a counter over the runs)", metLines, got)
	}
}

func TestStaleRangesWarning(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		srcs []ipranges.SourceInfo
		want string
	}{
		{"fresh built-in", []ipranges.SourceInfo{{Name: "builtin", Date: "2026110100"}}, ""},
		{"old built-in", []ipranges.SourceInfo{{Name: "builtin", Date: "2026073100"}}, "from 2026-07-31 (121 days old): run `mailaudit ranges update`"},
		{"old built-in, fresh download", []ipranges.SourceInfo{{Name: "builtin", Date: "2026073100"}, {Name: "o365", Date: "2026073100", Fetched: now.Add(-time.Hour)}}, ""},
		{"old download", []ipranges.SourceInfo{{Name: "builtin", Date: "docs commit x"}, {Name: "azure", Date: "changeNumber 3", Fetched: now.AddDate(0, -4, 0)}}, "from 2026-07-29 (123 days old)"},
		{"other sources do not count", []ipranges.SourceInfo{{Name: "builtin", Date: "2026073100"}, {Name: "aws", Fetched: now}}, "121 days old"},
		{"no dates", []ipranges.SourceInfo{{Name: "builtin", Date: "docs commit x"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := staleRangesWarning(tt.srcs, now, 90*24*time.Hour)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("staleRangesWarning = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFollowNotifiesAndWritesMetrics: a follower notifies each finding as
// it becomes certain and leaves the metrics file behind when stopped.
func TestFollowNotifiesAndWritesMetrics(t *testing.T) {
	dir := t.TempDir()
	log := sampleLog(t, dir)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	prom := filepath.Join(dir, "m.prom")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"scan", "--no-geoip", "--cache-dir", dir, "--state-dir", dir, "--follow", "--from-start", "--interval", "5ms",
		"--format", "jsonl", "--notify", srv.URL, "--metrics-file", prom, log}
	done := make(chan int)
	go func() { done <- mainContext(ctx, args, nil, &lockedBuffer{}, &lockedBuffer{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rcv.mu.Lock()
		n := len(rcv.bodies)
		rcv.mu.Unlock()
		if n >= 1 { // account-compromise (brute force and spray are medium)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d findings notified while following, want 1", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the follower reads the rest
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	bodies, _, _ := rcv.take()
	for _, b := range bodies {
		var f map[string]any
		if err := json.Unmarshal([]byte(b), &f); err != nil || (f["severity"] != "high" && f["severity"] != "critical") {
			t.Errorf("notified %s (%v): want findings of high or worse", b, err)
		}
	}
	fams := parseProm(t, prom)
	if got := sumOf(fams[metLines], nil); got != 38 {
		t.Errorf("%s = %v after following the 38-line sample", metLines, got)
	}
}
