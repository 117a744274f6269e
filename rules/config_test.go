package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		check   func(Config) bool
		wantErr string
	}{
		{name: "empty file gives the defaults", toml: "",
			check: func(c Config) bool { return reflect.DeepEqual(c, DefaultConfig()) }},
		{name: "override some keys", toml: `
evidence_cap = 3
[brute_force]
window = "5m"
failures = 50
severity = "critical"
[new_device]
report = ["address"]
`,
			check: func(c Config) bool {
				d := DefaultConfig()
				return c.EvidenceCap == 3 && c.BruteForce.Window == 5*time.Minute && c.BruteForce.Failures == 50 &&
					c.BruteForce.Severity == Critical && c.BruteForce.Enabled &&
					reflect.DeepEqual(c.NewDevice.Report, []string{"address"}) &&
					c.PasswordSpray == d.PasswordSpray
			}},
		{name: "disable a rule", toml: "[cleartext_auth]\nenabled = false\n",
			check: func(c Config) bool { return !c.CleartextAuth.Enabled && c.CleartextAuth.Severity == Medium }},
		{name: "unknown top-level key", toml: "evidence_capp = 3\n",
			wantErr: "cfg.toml: unknown key evidence_capp"},
		{name: "unknown nested key", toml: "[brute_force]\nwindw = \"5m\"\n",
			wantErr: "cfg.toml: unknown key brute_force.windw"},
		{name: "unknown table", toml: "[brute]\nwindow = \"5m\"\n",
			wantErr: "cfg.toml: unknown key brute.window"},
		{name: "bad duration", toml: "\n[password_spray]\nwindow = \"ten minutes\"\n",
			wantErr: "cfg.toml:3: "},
		{name: "integer duration is nanoseconds and rejected", toml: "[brute_force]\nwindow = 600\n",
			wantErr: "cfg.toml: brute_force.window = 600ns: must be at least 1s"},
		{name: "bad severity", toml: "[brute_force]\nseverity = \"urgent\"\n",
			wantErr: `cfg.toml:2: `},
		{name: "wrong type", toml: "[brute_force]\nfailures = \"ten\"\n",
			wantErr: `cfg.toml: line 2 (last key "brute_force.failures"): incompatible types`},
		{name: "zero threshold", toml: "[distributed_attack]\naddresses = 1\n",
			wantErr: "cfg.toml: distributed_attack.addresses = 1: must be at least 2"},
		{name: "bad prefix", toml: "ipv4_prefix = 33\n",
			wantErr: "cfg.toml: ipv4_prefix = 33: must be between 8 and 32"},
		{name: "unknown facet", toml: "[new_device]\nreport = [\"city\"]\n",
			wantErr: `cfg.toml: new_device.report: unknown facet "city"`},
		{name: "syntax error", toml: "evidence_cap = 3\n[brute_force\n",
			wantErr: "cfg.toml:3: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(strings.NewReader(tt.toml), "cfg.toml")
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mailaudit.toml")
	if err := os.WriteFile(p, []byte("[impossible_travel]\nwindow = \"3h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil || c.ImpossibleTravel.Window != 3*time.Hour {
		t.Fatalf("LoadConfig = %+v, %v", c.ImpossibleTravel, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestSeverityText(t *testing.T) {
	for s := Info; s <= Critical; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText([]byte(strings.ToUpper(string(b)))); err != nil || back != s {
			t.Errorf("round trip of %v: %v, %v", s, back, err)
		}
	}
	if _, err := Severity(0).MarshalText(); err == nil {
		t.Error("zero severity marshalled")
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe) succeeded")
	}
}

// TestExampleConfig keeps testdata/mailaudit.toml, the documented example,
// equal to DefaultConfig.
func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig(filepath.Join("testdata", "mailaudit.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Errorf("example config differs from the defaults:\n got %+v\nwant %+v", c, DefaultConfig())
	}
}
