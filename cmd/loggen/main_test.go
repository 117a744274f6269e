package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "day.json")
	tests := []struct {
		name     string
		args     []string
		code     int
		lines    int    // lines on stdout, -1 = don't check
		stderr   string // substring
		hasTruth bool
	}{
		{"classic", []string{"-n", "50"}, 0, 50, "", false},
		{"day", []string{"-day", "-n", "30000", "-truth", truth}, 0, 30000, "", true},
		{"truth without day", []string{"-truth", truth}, 2, 0, "-truth needs -day", false},
		{"few users", []string{"-day", "-users", "10"}, 2, 0, "10 users", false},
		{"bad start", []string{"-day", "-start", "yesterday"}, 2, 0, "-start", false},
		{"argument", []string{"-day", "x"}, 2, 0, "unexpected argument", false},
		{"stress hostile", []string{"-stress", "hostile", "-n", "40"}, 0, 40, "", false},
		{"stress crowd", []string{"-stress", "crowd", "-n", "40"}, 0, 40, "", false},
		{"stress unknown", []string{"-stress", "flood"}, 2, 0, "want hostile or crowd", false},
		{"stress with day", []string{"-stress", "crowd", "-day"}, 2, 0, "do not go together", false},
		{"truth in a missing dir", []string{"-day", "-truth", filepath.Join(t.TempDir(), "no", "t.json")}, 1, 0, "no such file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(truth)
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			if got := strings.Count(out.String(), "\n"); got != tt.lines {
				t.Errorf("%d lines, want %d", got, tt.lines)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
			data, err := os.ReadFile(truth)
			if (err == nil) != tt.hasTruth {
				t.Fatalf("truth file: %v", err)
			}
			if tt.hasTruth {
				var v struct {
					Lines     int
					Attackers []struct{ Addr, Kind string }
				}
				if err := json.Unmarshal(data, &v); err != nil || v.Lines != tt.lines || len(v.Attackers) < 40 {
					t.Errorf("truth: %v, Lines %d, %d attackers", err, v.Lines, len(v.Attackers))
				}
			}
		})
	}
}
