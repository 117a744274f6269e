package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/mailaudit/mailaudit/notify"
	"github.com/mailaudit/mailaudit/rules"
)

// uncomment turns the commented settings of a shipped example file ("# key
// = value", "# [table]", "# entry") into live ones; "##" lines stay
// comments.
func uncomment(t *testing.T, path string, setting *regexp.Regexp) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok && setting.MatchString(rest) {
			line = rest
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestShippedConfig: /etc/mailaudit/mailaudit.toml shows every key with its
// default: uncommented, it parses to exactly the defaults, and the TOML of
// the defaults names no key it lacks.
func TestShippedConfig(t *testing.T) {
	path := filepath.Join("..", "..", "packaging", "mailaudit.toml")
	text := uncomment(t, path, regexp.MustCompile(`^(\[[a-z_]+\]|[a-z0-9_]+ = )`))
	var st fileSettings
	cfg, err := rules.ParseConfigExtra(strings.NewReader(text), path, &st)
	if err != nil {
		t.Fatalf("the uncommented config does not parse: %v\n%s", err, text)
	}
	if def := rules.DefaultConfig(); !reflect.DeepEqual(cfg, def) {
		t.Errorf("the uncommented config is not the defaults:\n got %+v\nwant %+v", cfg, def)
	}
	if st.Notify.MinSeverity != "high" || st.Notify.Sendmail != notify.DefaultSendmail || len(st.Notify.Targets) != 0 || st.Notify.SecretFile != "" || st.Metrics.File != "" {
		t.Errorf("[notify]/[metrics] in the shipped config are not the flags' defaults: %+v", st)
	}
	// Every key of the defaults is shown (a key added to rules.Config
	// must be added to the shipped file too).
	var enc bytes.Buffer
	if err := toml.NewEncoder(&enc).Encode(rules.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	md, err := toml.Decode(text, &map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, k := range md.Keys() {
		shown[k.String()] = true
	}
	dmd, err := toml.Decode(enc.String(), &map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range dmd.Keys() {
		if !shown[k.String()] {
			t.Errorf("the shipped config does not show the key %s", k)
		}
	}
	// As shipped (all commented) it is the defaults, and scan reads it.
	if code, _, stderr := runMain("scan", "--config", path, "--no-geoip", "--cache-dir", t.TempDir(), "--format", "json", "../../testdata/mail.log"); code != exitOK {
		t.Errorf("scan --config with the shipped file: exit %d: %s", code, stderr)
	}
}

// TestShippedAllowlist: the example entries of /etc/mailaudit/allow.txt are
// valid once uncommented, and the file as shipped loads (empty).
func TestShippedAllowlist(t *testing.T) {
	path := filepath.Join("..", "..", "packaging", "allow.txt")
	if _, err := rules.LoadAllowlist(path); err != nil {
		t.Fatalf("shipped allowlist: %v", err)
	}
	text := uncomment(t, path, regexp.MustCompile(`^[0-9a-z]+[:.]`))
	live := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(live, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rules.LoadAllowlist(live); err != nil {
		t.Errorf("the uncommented examples do not load: %v\n%s", err, text)
	}
	if !strings.Contains(text, "\n192.0.2.0/24") || !strings.Contains(text, "\nprovider:microsoft") {
		t.Errorf("the examples were not uncommented:\n%s", text)
	}
}
