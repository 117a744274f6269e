package rules_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/loggen"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

// The detection targets on a realistic generated day (loggen.WriteDay),
// scored against the generator's truth file. The thresholds are fixed here:
// a change to the rules that misses them fails.
const (
	minAttackerCoverage = 0.95 // attacker addresses named by an attack finding
	maxOwnAccused       = 1    // real users' own addresses accused (an attack finding of medium or above)
	maxHighPerDay       = 12   // findings of high or above: a handful, each worth a look
	maxNewDevice        = 10   // new-device findings on a first run
	cronRuns            = 96   // a day as cron runs, every 15 minutes
	minCampaignRecall   = 0.90 // a spray's addresses listed as campaign members
)

// attackRules name the sources they accuse.
var attackRules = []string{rules.RuleBruteForce, rules.RulePasswordSpray, rules.RuleSprayCampaign,
	rules.RuleDistributedAttack, rules.RuleAccountCompromise}

type dayEvent struct {
	ev parse.Event
	o  ipranges.Origin
}

// genDay generates a day and parses it into events.
func genDay(t testing.TB, seed int64, lines int) ([]dayEvent, *loggen.Truth) {
	t.Helper()
	var buf bytes.Buffer
	truth, err := loggen.WriteDay(&buf, loggen.DayConfig{Seed: seed, Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	cls, _, err := ipranges.Load(ipranges.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cls.Close()
	p := parse.Parser{Year: truth.Start.Year(), Location: truth.Start.Location()}
	var evs []dayEvent
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		ev, st := p.Parse(sc.Bytes())
		if st != parse.Parsed {
			continue
		}
		ev.File, ev.Line = "day.log", n
		var o ipranges.Origin
		if ev.Addr.IsValid() {
			o = cls.Classify(ev.Addr)
		}
		evs = append(evs, dayEvent{ev, o})
	}
	return evs, truth
}

// score is what a run found, against the truth.
type score struct {
	named       map[string]bool // addresses named by an attack finding
	accused     map[string]bool // of which by one that accuses (medium or above)
	criticals   []string        // "user addr" of each critical finding
	newDevice   int
	bySeverity  map[rules.Severity]int
	byRule      map[string]int
	campaigns   int
	compromised map[string]bool // "user addr" of account-compromise findings
	members     map[string]bool // campaign members
}

func scoreFindings(fs []rules.Finding) score {
	s := score{named: map[string]bool{}, accused: map[string]bool{}, members: map[string]bool{}, bySeverity: map[rules.Severity]int{}, byRule: map[string]int{}, compromised: map[string]bool{}}
	for _, f := range fs {
		s.bySeverity[f.Severity]++
		s.byRule[f.Rule]++
		if f.Rule == rules.RuleNewDevice {
			s.newDevice++
		}
		if f.Rule == rules.RuleSprayCampaign {
			s.campaigns++
			for _, m := range f.Campaign.Members {
				s.members[canon(m.Address)] = true
			}
		}
		if f.Severity == rules.Critical {
			for _, a := range addrsOf(f) {
				s.criticals = append(s.criticals, f.User+" "+a)
			}
		}
		if f.Rule == rules.RuleAccountCompromise {
			for _, a := range addrsOf(f) {
				s.compromised[f.User+" "+a] = true
			}
		}
		if slices.Contains(attackRules, f.Rule) {
			for _, a := range addrsOf(f) {
				s.named[a] = true
				if f.Severity >= rules.Medium { // low: one account, maybe a device
					s.accused[a] = true
				}
			}
		}
	}
	slices.Sort(s.criticals)
	s.criticals = slices.Compact(s.criticals)
	return s
}

func addrsOf(f rules.Finding) []string {
	var out []string
	if f.RemoteIP != "" {
		out = append(out, canon(f.RemoteIP))
	}
	for _, a := range f.Addresses {
		out = append(out, canon(a))
	}
	if f.Campaign != nil {
		for _, m := range f.Campaign.Members {
			out = append(out, canon(m.Address))
		}
	}
	return out
}

// canon spells an address as the rules judge it: IPv4 as is, IPv6 as its
// /64 (one client owns a /64; findings name either).
func canon(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			return p.String()
		}
		return a.String()
	}
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is6() && p.Bits() == 64 {
		return p.Masked().String()
	}
	return s
}

func onePass(evs []dayEvent) []rules.Finding {
	e := rules.NewEngine(rules.DefaultConfig(), rules.Options{})
	for _, d := range evs {
		e.Observe(d.ev, d.o)
	}
	return e.Flush()
}

// cronPasses runs the day as n runs that each continue the previous one's
// state (MarshalState), as --state runs do, sharing one baseline; the last
// run drains what still waits.
func cronPasses(t testing.TB, evs []dayEvent, n int) []rules.Finding {
	t.Helper()
	base := rules.NewMemoryBaseline()
	var state []byte
	var all []rules.Finding
	first, last := evs[0].ev.Time, evs[len(evs)-1].ev.Time
	step := last.Sub(first)/time.Duration(n) + 1
	i := 0
	for run := range n {
		e := rules.NewEngine(rules.DefaultConfig(), rules.Options{Baseline: base, KeepPending: true})
		if state != nil {
			if err := e.UnmarshalState(state); err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
		}
		end := first.Add(step * time.Duration(run+1))
		for ; i < len(evs) && evs[i].ev.Time.Before(end); i++ {
			e.Observe(evs[i].ev, evs[i].o)
		}
		if run == n-1 {
			e.Drain()
		}
		all = append(all, e.Flush()...)
		var err error
		if state, err = e.MarshalState(); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func TestDetectionRealisticDay(t *testing.T) {
	lines, seeds := 300_000, []int64{1, 2}
	if testing.Short() || raceEnabled {
		// The race detector makes the engine ~10x slower: one smaller day
		// checks the same thresholds.
		lines, seeds = 100_000, []int64{1}
	}
	if env := os.Getenv("MAILAUDIT_SCORE_SEEDS"); env != "" {
		// More days, e.g. MAILAUDIT_SCORE_SEEDS=3,4,5,6 go test ./rules -run Realistic
		seeds = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("MAILAUDIT_SCORE_SEEDS: %v", err)
			}
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			evs, truth := genDay(t, seed, lines)
			got := scoreFindings(onePass(evs))
			t.Logf("findings by severity: critical %d, high %d, medium %d, low %d, info %d; by rule %v",
				got.bySeverity[rules.Critical], got.bySeverity[rules.High], got.bySeverity[rules.Medium],
				got.bySeverity[rules.Low], got.bySeverity[rules.Info], got.byRule)

			// Every attacker address named by an attack finding.
			var missed []string
			for _, a := range truth.Attackers {
				if !got.named[canon(a.Addr)] {
					missed = append(missed, a.Addr+" ("+a.Kind+")")
				}
			}
			cov := 1 - float64(len(missed))/float64(len(truth.Attackers))
			t.Logf("attacker addresses named: %d of %d (%.1f %%)", len(truth.Attackers)-len(missed), len(truth.Attackers), 100*cov)
			if cov < minAttackerCoverage {
				t.Errorf("attacker coverage %.3f < %.2f; missed %v", cov, minAttackerCoverage, missed)
			}
			// Real users' own addresses accused.
			own := map[string]bool{}
			for _, u := range truth.Users {
				for _, a := range u.Own {
					own[canon(a)] = true
				}
			}
			for _, a := range truth.Intermediaries {
				delete(own, canon(a))
			}
			var accused []string
			for a := range got.accused {
				if own[a] {
					accused = append(accused, a)
				}
			}
			slices.Sort(accused)
			t.Logf("own addresses accused: %d %v", len(accused), accused)
			if len(accused) > maxOwnAccused {
				t.Errorf("%d real users' own addresses accused (at most %d): %v", len(accused), maxOwnAccused, accused)
			}
			// Every critical is a true compromise; every compromise is critical.
			want := map[string]bool{}
			for _, c := range truth.Compromises {
				want[c.User+" "+canon(c.Addr)] = true
			}
			for _, c := range got.criticals {
				if !want[c] {
					t.Errorf("false critical: %s", c)
				}
			}
			for c := range want {
				if !got.compromised[c] {
					t.Errorf("compromise %s not reported as account-compromise", c)
				}
			}
			t.Logf("criticals: %v; campaigns: %d (truth %d)", got.criticals, got.campaigns, len(truth.Campaigns))
			if n := got.bySeverity[rules.High] + got.bySeverity[rules.Critical]; n > maxHighPerDay {
				t.Errorf("%d findings of high or above, want at most %d", n, maxHighPerDay)
			}
			if got.newDevice > maxNewDevice {
				t.Errorf("%d new-device findings on a first run, want at most %d", got.newDevice, maxNewDevice)
			}
			// Each distributed spray is found as a campaign (campaigns that
			// overlap in time are one): most of its addresses are members.
			for _, c := range truth.Campaigns {
				in := 0
				for _, a := range c.Addrs {
					if got.members[canon(a)] {
						in++
					}
				}
				if r := float64(in) / float64(len(c.Addrs)); r < minCampaignRecall {
					t.Errorf("campaign %s: %d of %d addresses are spray-campaign members (want %.0f %%)", c.ID, in, len(c.Addrs), 100*minCampaignRecall)
				}
			}

			// The same day as cron runs finds the same. A campaign reported
			// by several runs counts as its latest report: members that
			// turned out to be a user's own device leave it.
			cron := scoreFindings(latestCampaigns(cronPasses(t, evs, cronRuns)))
			if !maps.Equal(cron.named, got.named) {
				t.Errorf("%d cron runs named %d addresses, one pass %d; only in cron %v; only in one pass %v", cronRuns,
					len(cron.named), len(got.named), diff(cron.named, got.named), diff(got.named, cron.named))
			}
			if strings.Join(cron.criticals, ",") != strings.Join(got.criticals, ",") {
				t.Errorf("cron criticals %v, one pass %v", cron.criticals, got.criticals)
			}
		})
	}
}

// latestCampaigns keeps, of the spray-campaign findings of one campaign
// ID, the last one.
func latestCampaigns(fs []rules.Finding) []rules.Finding {
	last := map[string]int{}
	for i, f := range fs {
		if f.Campaign != nil {
			last[f.Campaign.ID] = i
		}
	}
	var out []rules.Finding
	for i, f := range fs {
		if f.Campaign == nil || last[f.Campaign.ID] == i {
			out = append(out, f)
		}
	}
	return out
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
