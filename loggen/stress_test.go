package loggen

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestWriteStress: each stress line is a Dovecot login line of its kind,
// with a user and an address of its own.
func TestWriteStress(t *testing.T) {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		kind Stress
		verb string
	}{
		{Hostile, "Disconnected: Connection closed (auth failed"},
		{Crowd, "Login: user=<u"},
	}
	field := regexp.MustCompile(`user=<([^>]*)>.* rip=([^,]*),`)
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			const n = 2000
			var b bytes.Buffer
			if err := WriteStress(&b, tt.kind, n, 1, start); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			users, addrs := map[string]bool{}, map[string]bool{}
			for _, l := range lines {
				m := field.FindStringSubmatch(l)
				if m == nil || !strings.Contains(l, tt.verb) {
					t.Fatalf("not a %s line: %q", tt.kind, l)
				}
				users[m[1]], addrs[m[2]] = true, true
			}
			if len(lines) != n || len(users) != n || len(addrs) < n*99/100 {
				t.Errorf("%d lines, %d users, %d addresses; want %d distinct", len(lines), len(users), len(addrs), n)
			}
		})
	}
	if err := WriteStress(&bytes.Buffer{}, "flood", 1, 1, start); err == nil {
		t.Error("an unknown stress kind was written")
	}
}
