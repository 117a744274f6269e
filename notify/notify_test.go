package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hook is a webhook receiver that answers with the statuses it is given
// in turn (then 200) and records every request.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	headers  []http.Header
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(body))
	h.headers = append(h.headers, r.Header.Clone())
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	w.WriteHeader(status)
}

func (h *hook) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func item(key string) Item {
	return Item{Key: key, Body: []byte(`{"rule":"brute-force","user":"` + key + `"}`), Text: "[high] brute-force " + key}
}

func fastOptions() Options {
	return Options{Backoff: time.Millisecond, Timeout: 5 * time.Second, Attempts: 3}
}

func mustTarget(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		name    string
		wantErr string
	}{
		{"https://hooks.example.org/services/T0/B0/secret", Webhook, "https://hooks.example.org/…", ""},
		{"http://127.0.0.1:9000", Webhook, "http://127.0.0.1:9000", ""},
		{"mailto:admin@example.org", Mail, "mailto:admin@example.org", ""},
		{"mailto:", 0, "", "one plain address"},
		{"mailto:a@example.org\r\nBcc: x@evil.test", 0, "", "one plain address"},
		{"mailto:a@example.org,b@example.org", 0, "", "one plain address"},
		{"mailto:not-an-address", 0, "", "missing '@'"},
		{"ftp://example.org", 0, "", "want an http://, https:// or mailto:"},
		{"https:///path", 0, "", "no host"},
		{"admin@example.org", 0, "", "want an http://"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tg, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTarget(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the URL's token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg.Kind() != tt.kind || tg.String() != tt.name {
				t.Errorf("ParseTarget(%q) = kind %v, %q; want %v, %q", tt.in, tg.Kind(), tg.String(), tt.kind, tt.name)
			}
		})
	}
}

func TestWebhookSignedBody(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	secret := []byte("s3cret")
	opts := fastOptions()
	opts.Secret = secret
	n := New([]Target{mustTarget(t, srv.URL+"/hook")}, opts, nil)
	if err := n.Send(context.Background(), []Item{item("a"), item("b")}); err != nil {
		t.Fatal(err)
	}
	if len(h.bodies) != 2 {
		t.Fatalf("%d requests, want one per item (2)", len(h.bodies))
	}
	for i, body := range h.bodies {
		if want := string(item([]string{"a", "b"}[i]).Body); body != want {
			t.Errorf("body %d = %s, want %s", i, body, want)
		}
		if ct := h.headers[i].Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(body))
		if got, want := h.headers[i].Get("X-Mailaudit-Signature"), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
			t.Errorf("signature = %q, want %q", got, want)
		}
	}
	// Sent once: the same items again send nothing.
	if err := n.Send(context.Background(), []Item{item("a"), item("b")}); err != nil {
		t.Fatal(err)
	}
	if h.requests() != 2 {
		t.Errorf("%d requests after sending the same items again, want still 2", h.requests())
	}
}

func TestWebhookUnsigned(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	n := New([]Target{mustTarget(t, srv.URL)}, fastOptions(), nil)
	if err := n.Send(context.Background(), []Item{item("a")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.headers[0]["X-Mailaudit-Signature"]; ok {
		t.Error("signature header sent without a secret")
	}
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		attempts  int
		wantReqs  int
		wantErr   string
		wantOwed  int
		wantFirst bool // first item delivered
	}{
		{"503 then ok", []int{503, 503}, 3, 4, "", 0, true},
		{"429 then ok", []int{429}, 3, 3, "", 0, true},
		{"always 500", []int{500, 500, 500}, 3, 3, "500 Internal Server Error after 3 attempt(s)", 2, false},
		{"400 is not retried", []int{400}, 3, 1, "400 Bad Request", 2, false},
		{"redirect is not followed", []int{302}, 3, 1, "302 Found", 2, false},
		{"second item fails", []int{200, 500, 500, 500}, 3, 4, "after 3 attempt(s)", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hook{statuses: tt.statuses}
			srv := httptest.NewServer(h)
			defer srv.Close()
			opts := fastOptions()
			opts.Attempts = tt.attempts
			n := New([]Target{mustTarget(t, srv.URL+"/t/secret-token")}, opts, nil)
			err := n.Send(context.Background(), []Item{item("a"), item("b")})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Send error = %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error shows the URL's token: %v", err)
			}
			if h.requests() != tt.wantReqs {
				t.Errorf("%d requests, want %d", h.requests(), tt.wantReqs)
			}
			if n.Pending() != tt.wantOwed {
				t.Errorf("Pending() = %d, want %d", n.Pending(), tt.wantOwed)
			}
			// The next Send delivers what is owed, and nothing twice.
			before := h.requests()
			if err := n.Send(context.Background(), nil); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := h.requests() - before; got != tt.wantOwed {
				t.Errorf("retry sent %d requests, want %d", got, tt.wantOwed)
			}
			if n.Pending() != 0 {
				t.Errorf("Pending() after retry = %d", n.Pending())
			}
		})
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	opts := fastOptions()
	opts.Timeout, opts.Attempts = 50*time.Millisecond, 2
	n := New([]Target{mustTarget(t, srv.URL)}, opts, nil)
	start := time.Now()
	err := n.Send(context.Background(), []Item{item("a")})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Send error = %v, want a deadline", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Send took %v: the timeout did not bound it", time.Since(start))
	}
	if n.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1", n.Pending())
	}
}

func TestMemoryAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "check.state.notify.json")
	h := &hook{statuses: []int{500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	target := mustTarget(t, srv.URL+"/path?token=xyz")

	// Run 1: the receiver is down: exit 3 material, both items owed.
	mem, err := LoadMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := New([]Target{target}, fastOptions(), mem).Send(context.Background(), []Item{item("a"), item("b")}); err == nil {
		t.Fatal("Send to a failing receiver returned no error")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "xyz") {
		t.Errorf("memory file holds the URL's token:\n%s", data)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("memory file mode %v, want 0600", st.Mode().Perm())
	}

	// Run 2: the receiver is back; "b" is met again and "c" is new.
	h.mu.Lock()
	h.statuses, h.bodies = nil, nil
	h.mu.Unlock()
	mem, err = LoadMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := New([]Target{target}, fastOptions(), mem).Send(context.Background(), []Item{item("b"), item("c")}); err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, b := range h.bodies {
		users = append(users, b[strings.Index(b, `"user":`):])
	}
	if got, want := strings.Join(users, " "), `"user":"a"} "user":"b"} "user":"c"}`; got != want {
		t.Errorf("run 2 sent %s, want %s (owed first, each once)", got, want)
	}

	// Run 3: everything was sent: nothing again.
	mem, err = LoadMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := New([]Target{target}, fastOptions(), mem).Send(context.Background(), []Item{item("a"), item("b"), item("c")}); err != nil {
		t.Fatal(err)
	}
	if h.requests() != 3 {
		t.Errorf("run 3 sent again: %d requests in all, want 3", h.requests())
	}
}

func TestMemoryForgets(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	opts := fastOptions()
	opts.Now = func() time.Time { return now }
	mem := NewMemory("")
	n := New([]Target{mustTarget(t, srv.URL)}, opts, mem)
	if err := n.Send(context.Background(), []Item{item("a")}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(Forget + time.Hour)
	if err := n.Send(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, tm := range mem.Targets {
		if len(tm.Sent) != 0 {
			t.Errorf("memory still holds %v after %v", tm.Sent, Forget)
		}
	}
}

func TestLoadMemoryErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":  "not json",
		"version":  `{"version": 2, "targets": {}}`,
		"unknown":  `{"version": 1, "targets": {}, "extra": 1}`,
		"truncate": `{"version": 1, "targ`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadMemory(p)
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("LoadMemory = %v, want an error naming %s", err, p)
			}
		})
	}
}

// fakeSendmail writes a script that stores its arguments and standard
// input in dir, and exits with status.
func fakeSendmail(t *testing.T, dir string, status int) string {
	t.Helper()
	p := filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\ncat > " + filepath.Join(dir, "mail") + "\n"
	if status != 0 {
		script += "echo 'sendmail: queue file write error' >&2\nexit " + string(rune('0'+status)) + "\n"
	}
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMail(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	opts := fastOptions()
	opts.Sendmail = fakeSendmail(t, dir, 0)
	opts.Host = "mx1.example.org"
	n := New([]Target{mustTarget(t, "mailto:postmaster@example.org")}, opts, nil)
	evil := Item{Key: "evil", Body: []byte(`{}`), Text: "[high] user \"x\nBcc: victim@example.net\n.\n\""}
	if err := n.Send(context.Background(), []Item{item("a"), evil}); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if strings.TrimSpace(string(args)) != "-t" {
		t.Errorf("sendmail args %q, want -t", args)
	}
	mail, _ := os.ReadFile(filepath.Join(dir, "mail"))
	head, body, ok := strings.Cut(string(mail), "\n\n")
	if !ok {
		t.Fatalf("no header/body separator:\n%s", mail)
	}
	for _, want := range []string{"To: postmaster@example.org\n", "Subject: mailaudit: 2 new finding(s) on mx1.example.org\n", "Auto-Submitted: auto-generated"} {
		if !strings.Contains(head+"\n", want) {
			t.Errorf("headers lack %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, "Bcc") {
		t.Errorf("a finding's text forged a header:\n%s", head)
	}
	for _, line := range strings.Split(body, "\n") {
		if line == "." || strings.HasPrefix(line, "Bcc:") {
			t.Errorf("a finding's text forged a line %q:\n%s", line, body)
		}
	}
	if !strings.Contains(body, "- [high] brute-force a\n") {
		t.Errorf("body lacks the finding:\n%s", body)
	}
	// One mail per Send: nothing new, nothing sent.
	os.Remove(filepath.Join(dir, "mail"))
	if err := n.Send(context.Background(), []Item{item("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mail")); err == nil {
		t.Error("a second mail for findings already mailed")
	}
}

func TestMailFailureIsKept(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	opts := fastOptions()
	opts.Sendmail = fakeSendmail(t, dir, 1)
	n := New([]Target{mustTarget(t, "mailto:postmaster@example.org")}, opts, nil)
	err := n.Send(context.Background(), []Item{item("a")})
	if err == nil || !strings.Contains(err.Error(), "queue file write error") {
		t.Fatalf("Send = %v, want sendmail's complaint", err)
	}
	if n.Pending() != 1 {
		t.Fatalf("Pending() = %d, want 1", n.Pending())
	}
	opts.Sendmail = fakeSendmail(t, dir, 0)
	n.opts.Sendmail = opts.Sendmail
	if err := n.Send(context.Background(), []Item{item("b")}); err != nil {
		t.Fatal(err)
	}
	mail, _ := os.ReadFile(filepath.Join(dir, "mail"))
	if !strings.Contains(string(mail), "brute-force a\n") || !strings.Contains(string(mail), "brute-force b\n") {
		t.Errorf("the retry mail lacks the owed finding or the new one:\n%s", mail)
	}
	// A missing sendmail is an error too, not a silent drop.
	n.opts.Sendmail = filepath.Join(dir, "nonexistent")
	if err := n.Send(context.Background(), []Item{item("c")}); err == nil {
		t.Error("Send through a missing sendmail returned no error")
	}
}
