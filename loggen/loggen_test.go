package loggen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDeterministicMix(t *testing.T) {
	start := time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)
	var a, b bytes.Buffer
	if err := New(7, start).WriteLines(&a, 20000); err != nil {
		t.Fatal(err)
	}
	if err := New(7, start).WriteLines(&b, 20000); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	lines := strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n")
	if len(lines) != 20000 {
		t.Fatalf("%d lines", len(lines))
	}
	auth := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "Nov ") {
			t.Fatalf("not RFC 3164: %q", l)
		}
		if strings.Contains(l, "-login: ") || strings.Contains(l, "sasl_") || strings.Contains(l, "SASL ") || strings.Contains(l, "auth-worker") {
			auth++
		}
	}
	if share := float64(auth) / float64(len(lines)); share < 0.08 || share > 0.16 {
		t.Errorf("login/auth share %.3f, want about 0.12", share)
	}
	for _, want := range []string{"Logged in: ", "Login: ", "(auth_failed)", "sasl_method=", "rip=52.98.204.101", "rip=2001:db8:", "rip=::ffff:"} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("no %q in the output", want)
		}
	}
}
