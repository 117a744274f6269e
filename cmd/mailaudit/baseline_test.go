package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/baseline"
	"github.com/mailaudit/mailaudit/rules"
)

func TestStateDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	env := func(x string) func(string) string {
		return func(k string) string {
			if k == "XDG_STATE_HOME" {
				return x
			}
			return ""
		}
	}
	tests := []struct {
		name, flag string
		euid       int
		getenv     func(string) string
		home       func() (string, error)
		want       string
		wantErr    bool
	}{
		{name: "flag wins", flag: "/srv/state", euid: 0, getenv: env("/x"), home: home, want: "/srv/state"},
		{name: "root", euid: 0, getenv: env("/x"), home: home, want: "/var/lib/mailaudit"},
		{name: "xdg", euid: 1000, getenv: env("/x/state"), home: home, want: "/x/state/mailaudit"},
		{name: "relative xdg is ignored", euid: 1000, getenv: env("rel"), home: home, want: "/home/u/.local/state/mailaudit"},
		{name: "home", euid: 1000, getenv: env(""), home: home, want: "/home/u/.local/state/mailaudit"},
		{name: "nothing", euid: 1000, getenv: env(""), home: noHome, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stateDirFor(tt.flag, tt.euid, tt.getenv, tt.home)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("stateDirFor = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// seedBaseline writes a baseline with two users into a new state dir.
func seedBaseline(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := baseline.Open(filepath.Join(dir, baseline.FileName))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		user string
		f    rules.Facet
		v    string
	}{
		{"alice@example.org", rules.FacetAddress, "203.0.113.7"},
		{"alice@example.org", rules.FacetNetwork, "203.0.113.0/24"},
		{"alice@example.org", rules.FacetCountry, "DE"},
		{"bob@example.org", rules.FacetASN, "AS8075"},
		{"evil\x1b[31m", rules.FacetAddress, "192.0.2.1"},
	} {
		if err := db.Learn(r.user, rules.Device{Facet: r.f, Value: r.v}, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBaselineList(t *testing.T) {
	dir := seedBaseline(t)
	empty := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings, in order
		notStdout  []string
		stderrHas  string
		jsonLength int // -1: not JSON
	}{
		{name: "table of all users", args: []string{"baseline", "list", "--state-dir", dir},
			stdout:     []string{"user", "kind", "alice@example.org", "address", "203.0.113.7", "2026-11-22", "10:00:00", "network", "country", "bob@example.org", "AS8075", `evil\x1b[31m`},
			notStdout:  []string{"\x1b"},
			jsonLength: -1},
		{name: "one user", args: []string{"baseline", "list", "--state-dir", dir, "--user", "bob@example.org"},
			stdout: []string{"bob@example.org", "asn", "AS8075"}, notStdout: []string{"alice"}, jsonLength: -1},
		{name: "json", args: []string{"baseline", "list", "--state-dir", dir, "--format", "json"},
			stdout: []string{`"user": "alice@example.org"`, `"kind": "address"`, `"first_seen": "2026-11-22T10:00:00Z"`, `"count": 1`}, jsonLength: 5},
		{name: "json of an unknown user is an empty list", args: []string{"baseline", "list", "--state-dir", dir, "--format", "json", "--user", "nobody"},
			jsonLength: 0},
		{name: "no baseline yet", args: []string{"baseline", "list", "--state-dir", empty, "--format", "json"},
			stderrHas: "no baseline yet", jsonLength: 0},
		{name: "bad format", args: []string{"baseline", "list", "--state-dir", dir, "--format", "xml"},
			code: exitUsage, stderrHas: "--format", jsonLength: -1},
		{name: "unknown flag", args: []string{"baseline", "list", "--bogus"},
			code: exitUsage, stderrHas: "unknown flag", jsonLength: -1},
		{name: "stray argument", args: []string{"baseline", "list", "--state-dir", dir, "alice"},
			code: exitUsage, jsonLength: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runMain(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errs)
			}
			rest := out
			for _, s := range tt.stdout {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", s, out)
				}
				rest = rest[i+len(s):]
			}
			for _, s := range tt.notStdout {
				if strings.Contains(out, s) {
					t.Errorf("stdout contains %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errs, tt.stderrHas) {
				t.Errorf("stderr %q lacks %q", errs, tt.stderrHas)
			}
			if tt.jsonLength >= 0 {
				var rows []map[string]any
				if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != tt.jsonLength {
					t.Errorf("JSON %d rows, %v; want %d:\n%s", len(rows), err, tt.jsonLength, out)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(empty, baseline.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("list created a database: %v", err)
	}
}

func TestBaselineForget(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdoutHas string
		stderrHas string
		left      int // entries left of the 5 seeded
	}{
		{name: "one value", args: []string{"forget", "alice@example.org", "203.0.113.7"},
			stdoutHas: "forgot 1 entries of alice@example.org", left: 4},
		{name: "several values, normalized", args: []string{"forget", "alice@example.org", "203.0.113.9/24", "de"},
			stdoutHas: "forgot 2 entries", left: 3},
		{name: "value not learned", args: []string{"forget", "bob@example.org", "192.0.2.1"},
			stdoutHas: "forgot 0 entries", stderrHas: "192.0.2.1 was not learned for bob@example.org", left: 5},
		{name: "all for a user", args: []string{"forget", "--all-for", "alice@example.org"},
			stdoutHas: "forgot 3 entries", left: 2},
		{name: "user without value", args: []string{"forget", "alice@example.org"},
			code: exitUsage, stderrHas: "--all-for", left: 5},
		{name: "all-for with values", args: []string{"forget", "--all-for", "alice@example.org", "DE"},
			code: exitUsage, left: 5},
		{name: "empty value", args: []string{"forget", "alice@example.org", ""},
			code: exitUsage, left: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := seedBaseline(t)
			args := append([]string{"baseline", "--state-dir", dir}, tt.args...)
			code, out, errs := runMain(args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errs)
			}
			if !strings.Contains(out, tt.stdoutHas) || !strings.Contains(errs, tt.stderrHas) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", out, tt.stdoutHas, errs, tt.stderrHas)
			}
			db, err := baseline.Open(filepath.Join(dir, baseline.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			es, err := db.List("")
			if err != nil || len(es) != tt.left {
				t.Errorf("%d entries left (%v), want %d: %v", len(es), err, tt.left, es)
			}
		})
	}
}

func TestBaselineErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, baseline.FileName), bytes.Repeat([]byte("garbage!"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"state dir is a file", []string{"baseline", "list", "--state-dir", notDir}},
		{"corrupt database", []string{"baseline", "list", "--state-dir", corrupt}},
		{"forget in a corrupt database", []string{"baseline", "forget", "--state-dir", corrupt, "--all-for", "x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runMain(tt.args...)
			if code != exitError || !strings.HasPrefix(errs, "mailaudit: ") {
				t.Errorf("exit %d, stderr %q; want %d with a message", code, errs, exitError)
			}
		})
	}
	code, out, errs := runMain("baseline", "forget", "--state-dir", t.TempDir(), "--all-for", "x")
	if code != exitOK || out != "" || !strings.Contains(errs, "nothing to forget") {
		t.Errorf("forget without a baseline: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestCorruptRulesState: a damaged attack state in the baseline database
// is an error naming the file (exit 3), not a silent fresh start; the
// plain JSON of earlier versions still loads.
func TestCorruptRulesState(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, dir, "mail.log", loginA)
	args := append(isolated(t), "--state", filepath.Join(dir, "scan.state"), "--format", "jsonl", log)
	if code, _, stderr := runMain(append([]string{"scan"}, args...)...); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	var stateDir string
	for i, a := range args {
		if a == "--state-dir" {
			stateDir = args[i+1]
		}
	}
	dbPath := filepath.Join(stateDir, baseline.FileName)
	db, err := baseline.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	saved, _, err := db.LoadState(rulesStateName)
	db.Close()
	if err != nil || len(saved) < 2 || saved[0] != 0x1f || saved[1] != 0x8b {
		t.Fatalf("saved state is not gzipped: %.20q, %v", saved, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		state []byte
		want  int
	}{
		{"plain JSON of earlier versions", plain, exitOK},
		{"not JSON", []byte("{not json"), exitError},
		{"truncated gzip", saved[:len(saved)/2], exitError},
		{"JSON and more", append(slices.Clone(plain), []byte(" {}")...), exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := baseline.Open(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SaveState(rulesStateName, rules.StateVersion, tt.state); err != nil {
				t.Fatal(err)
			}
			db.Close()
			code, _, stderr := runMain(append([]string{"scan"}, args...)...)
			if code != tt.want || tt.want == exitError && !strings.Contains(stderr, baseline.FileName) {
				t.Errorf("exit %d, want %d (naming %s when an error); stderr:\n%s", code, tt.want, baseline.FileName, stderr)
			}
		})
	}
}
