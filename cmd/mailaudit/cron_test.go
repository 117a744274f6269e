package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailaudit/mailaudit/loggen"
)

// findingKeys returns "rule address" for every address a JSONL findings
// output names (rip, addresses, campaign members), and "user address" of
// its critical findings.
func findingKeys(t *testing.T, jsonl string) (named, critical map[string]bool) {
	t.Helper()
	named, critical = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var f struct {
			Rule      string   `json:"rule"`
			Severity  string   `json:"severity"`
			User      *string  `json:"user"`
			RIP       *string  `json:"rip"`
			Addresses []string `json:"addresses"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		addrs := slices.Clone(f.Addresses)
		if f.RIP != nil {
			addrs = append(addrs, *f.RIP)
		}
		for _, a := range addrs {
			switch f.Rule {
			case "brute-force", "password-spray", "spray-campaign", "account-compromise":
				named[a] = true
			}
			if f.Severity == "critical" && f.User != nil {
				critical[*f.User+" "+a] = true
			}
		}
	}
	return named, critical
}

// TestCronRunsKeepAttackState runs a generated day as eight cron runs of
// scan --state, appending to the log between runs, and as one scan: the
// runs hand their attack state on (in the baseline database), so they
// name every address and every compromise the single pass does.
func TestCronRunsKeepAttackState(t *testing.T) {
	var day bytes.Buffer
	truth, err := loggen.WriteDay(&day, loggen.DayConfig{Seed: 3, Lines: 60000})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all := filepath.Join(dir, "all.log")
	if err := os.WriteFile(all, day.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--year", "2026", "--tz", "UTC", "--no-geoip", "--cache-dir", dir, "--format", "jsonl"}
	code, out, stderr := runMain(append(append([]string{"scan"}, common...), all)...)
	if code != exitOK && code != exitFindings {
		t.Fatalf("one pass: exit %d\n%s", code, stderr)
	}
	oneNamed, oneCritical := findingKeys(t, out)
	if len(oneCritical) == 0 {
		t.Fatal("the generated day raised no critical finding in one pass")
	}

	lines := strings.SplitAfter(day.String(), "\n")
	log := filepath.Join(dir, "mail.log")
	state := filepath.Join(dir, "state", "scan.state")
	cronNamed, cronCritical := map[string]bool{}, map[string]bool{}
	const runs = 8
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for r := range runs {
		for _, l := range lines[r*len(lines)/runs : (r+1)*len(lines)/runs] {
			f.WriteString(l)
		}
		code, out, stderr := runMain(append(append([]string{"scan", "--state", state, "--state-dir", filepath.Join(dir, "state")}, common...), log)...)
		if code != exitOK && code != exitFindings {
			t.Fatalf("run %d: exit %d\n%s", r, code, stderr)
		}
		n, c := findingKeys(t, out)
		for k := range n {
			cronNamed[k] = true
		}
		for k := range c {
			cronCritical[k] = true
		}
	}
	for k := range oneNamed {
		if !cronNamed[k] {
			t.Errorf("one pass names %s, the cron runs do not", k)
		}
	}
	if !maps.Equal(oneCritical, cronCritical) {
		t.Errorf("criticals: one pass %v, cron runs %v", oneCritical, cronCritical)
	}
	for _, c := range truth.Compromises {
		if !cronCritical[c.User+" "+c.Addr] {
			t.Errorf("compromise %s %s not critical in the cron runs", c.User, c.Addr)
		}
	}
	t.Logf("one pass named %d addresses, the cron runs %d; criticals %d", len(oneNamed), len(cronNamed), len(cronCritical))
}
