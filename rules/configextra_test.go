package rules

import (
	"strings"
	"testing"
)

func TestParseConfigExtra(t *testing.T) {
	type extra struct {
		Notify struct {
			Targets []string `toml:"targets"`
		} `toml:"notify"`
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
		targets int
	}{
		{"both parts", "evidence_cap = 3\n[notify]\ntargets = [\"mailto:a@example.org\"]\n[brute_force]\nfailures = 4\n", "", 1},
		{"unknown key in the extra table", "[notify]\ntargets = []\nbogus = 1\n", "unknown key notify.bogus", 0},
		{"unknown key of neither", "[nothing]\nx = 1\n", "unknown key nothing", 0},
		{"wrong type in the extra table", "[notify]\ntargets = 3\n", "cfg.toml", 0},
		{"syntax error", "x = 1\n[notify\n", "to end table name", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x extra
			cfg, err := ParseConfigExtra(strings.NewReader(tt.in), "cfg.toml", &x)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(x.Notify.Targets) != tt.targets || cfg.EvidenceCap != 3 || cfg.BruteForce.Failures != 4 {
				t.Errorf("got targets %v, evidence_cap %d, failures %d", x.Notify.Targets, cfg.EvidenceCap, cfg.BruteForce.Failures)
			}
		})
	}
	// Without extra, the extra table is an unknown key as before.
	if _, err := ParseConfig(strings.NewReader("[notify]\ntargets = []\n"), "cfg.toml"); err == nil || !strings.Contains(err.Error(), "unknown key notify") {
		t.Errorf("ParseConfig = %v, want unknown key notify", err)
	}
}
