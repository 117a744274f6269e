package loggen

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/parse"
)

// testDay is a generated day with every line parsed.
type testDay struct {
	cfg   DayConfig
	log   []byte
	truth *Truth
	lines [][]byte
	plans []*rec // per line; nil for bookkeeping noise
	evs   []parse.Event
	sts   []parse.Status
}

func genDay(t testing.TB, cfg DayConfig) *testDay {
	t.Helper()
	d, err := planDay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	td := &testDay{cfg: d.cfg}
	var buf bytes.Buffer
	td.truth, err = d.write(&buf, func(line []byte, r *rec) {
		td.lines = append(td.lines, slices.Clone(line))
		td.plans = append(td.plans, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	td.log = buf.Bytes()
	p := parse.Parser{Year: d.cfg.Start.Year(), Location: time.UTC}
	for _, l := range td.lines {
		ev, st := p.Parse(l)
		td.evs = append(td.evs, ev)
		td.sts = append(td.sts, st)
	}
	return td
}

var testCfg = DayConfig{Lines: 60_000}

var shared *testDay

func day60k(t *testing.T) *testDay {
	if shared == nil {
		shared = genDay(t, testCfg)
	}
	return shared
}

func TestWriteDayDeterministic(t *testing.T) {
	run := func(cfg DayConfig) ([]byte, []byte) {
		var log, js bytes.Buffer
		tr, err := WriteDay(&log, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		return log.Bytes(), js.Bytes()
	}
	l1, j1 := run(testCfg)
	l2, j2 := run(testCfg)
	if !bytes.Equal(l1, l2) || !bytes.Equal(j1, j2) {
		t.Fatal("the same config gave different output")
	}
	other := testCfg
	other.Seed = 2
	l3, j3 := run(other)
	if bytes.Equal(l1, l3) || bytes.Equal(j1, j3) {
		t.Fatal("seeds 1 and 2 gave the same output")
	}
	// WriteDay and the planner the tests inspect write the same bytes.
	if td := day60k(t); !bytes.Equal(td.log, l1) {
		t.Fatal("WriteDay differs from the tested plan")
	}
}

func TestWriteDayConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  DayConfig
		ok   bool
	}{
		{"defaults", DayConfig{Lines: 20_000}, true},
		{"few users", DayConfig{Users: 59}, false},
		{"short day", DayConfig{Duration: time.Hour}, false},
		{"negative lines", DayConfig{Lines: -1}, false},
		{"host with space", DayConfig{Host: "a b"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WriteDay(io.Discard, tt.cfg)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrDayConfig) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// want is the event a planned line must parse as.
func want(r *rec) (parse.Kind, parse.Result, string, bool, bool) {
	switch r.op {
	case opLogin:
		return parse.KindLogin, parse.Success, r.user, true, true
	case opLoginFail:
		return parse.KindLogin, parse.Failure, r.user, true, true
	case opAuthDetail:
		return parse.KindAuth, parse.Failure, r.user, true, true
	case opNoAuth:
		return parse.KindLogin, parse.Aborted, "", true, true
	case opSASLOK:
		return parse.KindSASL, parse.Success, r.user, true, true
	case opSASLFail:
		if !r.named {
			return parse.KindSASL, parse.Failure, "", false, true
		}
		return parse.KindSASL, parse.Failure, r.user, true, true
	}
	return 0, 0, "", false, false // companions: no event
}

// TestWriteDayParses checks every line against the parser: each planned
// login, failure and auth line is the event it was meant to be (kind,
// result, user, address, attempts, time); every other line is ignored.
func TestWriteDayParses(t *testing.T) {
	td := day60k(t)
	stamp := regexp.MustCompile(`^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d mx1 [a-z/]+(\[\d+\])?: `)
	var prev time.Time
	counts := map[string]int{}
	for i, line := range td.lines {
		if !stamp.Match(line) {
			t.Fatalf("line %d: not an RFC 3164 line: %s", i+1, line)
		}
		ts, err := time.Parse(time.Stamp, string(line[:15]))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		ts = ts.AddDate(td.cfg.Start.Year(), 0, 0)
		if ts.Before(prev) {
			t.Fatalf("line %d: time goes back: %s", i+1, line)
		}
		prev = ts
		r, ev, st := td.plans[i], td.evs[i], td.sts[i]
		if r == nil {
			if st != parse.Ignored {
				t.Fatalf("line %d: bookkeeping line parsed as %v %+v: %s", i+1, st, ev, line)
			}
			counts["noise"]++
			continue
		}
		kind, res, user, hasUser, isEvent := want(r)
		if !isEvent {
			if st != parse.Ignored {
				t.Fatalf("line %d: companion line parsed as %v %+v: %s", i+1, st, ev, line)
			}
			counts["companion"]++
			continue
		}
		if st != parse.Parsed {
			t.Fatalf("line %d: status %v (%s), want an event: %s", i+1, st, ev.Reason, line)
		}
		if ev.Kind != kind || ev.Result != res || ev.User != user || ev.HasUser != hasUser || ev.RemoteIP != r.addr {
			t.Fatalf("line %d: got %v %v user %q/%v rip %s, want %v %v user %q/%v rip %s: %s", i+1,
				ev.Kind, ev.Result, ev.User, ev.HasUser, ev.RemoteIP, kind, res, user, hasUser, r.addr, line)
		}
		if r.op == opLoginFail && ev.Attempts != int(r.n) {
			t.Fatalf("line %d: %d attempts, want %d: %s", i+1, ev.Attempts, r.n, line)
		}
		if at := td.cfg.Start.Add(time.Duration(r.at - r.at%int64(time.Second))); !ev.Time.Equal(at) {
			t.Fatalf("line %d: time %v, want %v", i+1, ev.Time, at)
		}
		counts[ev.Kind.String()+"/"+ev.Result.String()]++
	}
	t.Logf("%d lines: %v", len(td.lines), counts)
	for _, k := range []string{"login/success", "login/failure", "login/aborted", "sasl/success", "sasl/failure", "auth/failure", "companion"} {
		if counts[k] == 0 {
			t.Errorf("no %s lines", k)
		}
	}
}

// fail is a failed attempt read from the log.
type fail struct {
	at       time.Time
	user     string
	hasUser  bool
	attempts int
	sasl     bool
}

// byAddr indexes the parsed log by address.
type logIndex struct {
	fails   map[string][]fail
	success map[string][]fail // logins and SASL successes (attempts 1)
	subs    map[string][]fail // SASL successes only
}

func index(td *testDay) *logIndex {
	ix := &logIndex{fails: map[string][]fail{}, success: map[string][]fail{}, subs: map[string][]fail{}}
	for i, ev := range td.evs {
		if td.sts[i] != parse.Parsed || ev.Kind == parse.KindAuth {
			continue
		}
		f := fail{at: ev.Time, user: ev.User, hasUser: ev.HasUser, attempts: max(1, ev.Attempts), sasl: ev.Kind == parse.KindSASL}
		switch ev.Result {
		case parse.Failure:
			ix.fails[ev.RemoteIP] = append(ix.fails[ev.RemoteIP], f)
		case parse.Success:
			ix.success[ev.RemoteIP] = append(ix.success[ev.RemoteIP], f)
			if f.sasl {
				ix.subs[ev.RemoteIP] = append(ix.subs[ev.RemoteIP], f)
			}
		}
	}
	return ix
}

func TestWriteDaySize(t *testing.T) {
	for _, n := range []int{60_000, 100_000} {
		var buf bytes.Buffer
		tr, err := WriteDay(&buf, DayConfig{Lines: n, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		got := bytes.Count(buf.Bytes(), []byte("\n"))
		if got != tr.Lines {
			t.Errorf("Lines = %d, log has %d", tr.Lines, got)
		}
		if got < n*9/10 || got > n*11/10 {
			t.Errorf("%d lines for Lines %d", got, n)
		}
	}
}

func TestWriteDayTruth(t *testing.T) {
	td := day60k(t)
	tr := td.truth
	ix := index(td)

	if !tr.Start.Equal(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)) || tr.End.Sub(tr.Start) != 32*time.Hour {
		t.Errorf("day %v – %v", tr.Start, tr.End)
	}
	userRE := regexp.MustCompile(`^[a-z]+\.[a-z]+\d*@[a-z.]+$`)
	own := map[string]map[string]bool{} // user -> own addresses
	ownAny := map[string]bool{}
	if len(tr.Users) != 200 {
		t.Errorf("%d users", len(tr.Users))
	}
	for _, u := range tr.Users {
		if !userRE.MatchString(u.Name) {
			t.Errorf("user name %q", u.Name)
		}
		own[u.Name] = map[string]bool{}
		for _, a := range u.Own {
			own[u.Name][a] = true
			ownAny[a] = true
		}
	}
	inter := map[string]bool{}
	for _, a := range tr.Intermediaries {
		inter[a] = true
		if ownAny[a] {
			t.Errorf("intermediary %s is a user's own address", a)
		}
	}
	kinds := map[string]int{}
	atk := map[string]*TruthAttacker{}
	for i := range tr.Attackers {
		a := &tr.Attackers[i]
		atk[a.Addr] = a
		kinds[a.Kind]++
		if ownAny[a.Addr] {
			t.Errorf("attacker %s (%s) is a user's own address", a.Addr, a.Kind)
		}
		if inter[a.Addr] != (a.Kind == "cloud-spray") {
			t.Errorf("attacker %s (%s): intermediary %v", a.Addr, a.Kind, inter[a.Addr])
		}
		// Attempts are what the log shows from the address.
		n := 0
		for _, f := range ix.fails[a.Addr] {
			n += f.attempts
		}
		if n != a.Attempts || n == 0 {
			t.Errorf("attacker %s (%s): %d attempts in the log, truth %d", a.Addr, a.Kind, n, a.Attempts)
		}
	}
	if kinds["brute-force"] < 40 || kinds["spray"] < 3 || kinds["slow"] < 2 || kinds["slow"] > 3 || kinds["cloud-spray"] != 1 {
		t.Errorf("attacker kinds %v", kinds)
	}

	// Every success in the log is from the user's own address or an
	// intermediary, or is a compromise in the truth.
	comp := map[[2]string]bool{}
	for _, c := range tr.Compromises {
		comp[[2]string{c.User, c.Addr}] = true
		if !slices.Contains(atk[c.Addr].Succeeded, c.User) {
			t.Errorf("compromise %v: not in the attacker's Succeeded", c)
		}
	}
	for addr, ss := range ix.success {
		for _, s := range ss {
			if !own[s.user][addr] && !inter[addr] && !comp[[2]string{s.user, addr}] {
				t.Errorf("success of %s from %s at %v is unexplained", s.user, addr, s.at)
			}
		}
	}

	// Campaigns: 20–70 addresses, each trying 1–18 distinct accounts
	// (the intended users, named in the log or not).
	if len(tr.Campaigns) < 2 || len(tr.Campaigns) > 3 {
		t.Errorf("%d campaigns", len(tr.Campaigns))
	}
	tried := map[string]map[string]bool{}
	for i, r := range td.plans {
		if r != nil && (r.op == opSASLFail || r.op == opLoginFail || r.op == opLogin) && atk[r.addr] != nil && atk[r.addr].Kind == "campaign" {
			if tried[r.addr] == nil {
				tried[r.addr] = map[string]bool{}
			}
			if r.op == opLogin && comp[[2]string{r.user, r.addr}] && !td.evs[i].Time.Equal(compTime(tr, r.addr)) {
				continue // the attacker's later logins
			}
			tried[r.addr][r.user] = true
		}
	}
	var campAddrs int
	for _, c := range tr.Campaigns {
		if len(c.Addrs) < 20 || len(c.Addrs) > 70 {
			t.Errorf("%s: %d addresses", c.ID, len(c.Addrs))
		}
		targets := map[string]bool{}
		unnamed := 0
		for _, a := range c.Addrs {
			campAddrs++
			if atk[a] == nil || atk[a].Kind != "campaign" || atk[a].Campaign != c.ID {
				t.Errorf("%s: address %s not in Attackers as its campaign", c.ID, a)
			}
			if n := len(tried[a]); n < 1 || n > 18 {
				t.Errorf("%s: %s tried %d accounts", c.ID, a, n)
			}
			for u := range tried[a] {
				targets[u] = true
			}
			for _, f := range ix.fails[a] {
				if !f.hasUser {
					unnamed++
				}
				if f.at.Before(c.First) || f.at.After(c.Last) {
					t.Errorf("%s: failure at %v outside %v – %v", c.ID, f.at, c.First, c.Last)
				}
			}
		}
		if c.Targets != len(targets) || unnamed != c.Unnamed || c.Unnamed == 0 {
			t.Errorf("%s: targets %d (log %d), unnamed %d (log %d)", c.ID, c.Targets, len(targets), c.Unnamed, unnamed)
		}
		if d := c.Last.Sub(c.First); d < time.Hour || d > 5*time.Hour {
			t.Errorf("%s lasts %v", c.ID, d)
		}
	}
	if campAddrs != kinds["campaign"] {
		t.Errorf("%d campaign addresses in campaigns, %d in Attackers", campAddrs, kinds["campaign"])
	}

	// Compromises: one campaign and the cloud spray.
	if len(tr.Compromises) != 2 {
		t.Fatalf("compromises %+v", tr.Compromises)
	}
	for _, c := range tr.Compromises {
		var ok bool
		for _, s := range ix.success[c.Addr] {
			if s.user == c.User && s.at.Equal(c.Success) && !s.sasl {
				ok = true
			}
		}
		if !ok {
			t.Errorf("compromise %+v: no such login in the log", c)
		}
		var subs int
		for _, s := range ix.subs[c.Addr] {
			if s.user == c.User && s.at.After(c.Success) {
				subs++
			}
		}
		if c.Submission != (subs > 0) {
			t.Errorf("compromise %+v: %d submissions after it", c, subs)
		}
		before := map[string]bool{} // accounts failing from the campaign's addresses before the success
		switch c.Campaign {
		case "cloud":
			if atk[c.Addr].Kind != "cloud-spray" || !inter[c.Addr] {
				t.Errorf("cloud compromise from %s", c.Addr)
			}
			for _, f := range ix.fails[c.Addr] {
				if f.at.Before(c.Success) && c.Success.Sub(f.at) < 2*time.Hour {
					before[f.user] = true
				}
			}
			if len(before) != 30 || !before[c.User] {
				t.Errorf("cloud spray: %d accounts failed before the success (victim among them: %v)", len(before), before[c.User])
			}
		default:
			var camp *TruthCampaign
			for i := range tr.Campaigns {
				if tr.Campaigns[i].ID == c.Campaign {
					camp = &tr.Campaigns[i]
				}
			}
			if camp == nil || !slices.Contains(camp.Addrs, c.Addr) {
				t.Fatalf("compromise %+v: no such campaign address", c)
			}
			n := 0
			for _, a := range camp.Addrs {
				for _, f := range ix.fails[a] {
					if a != c.Addr && f.at.Before(c.Success) {
						n++
					}
				}
			}
			if n < 10 {
				t.Errorf("compromise %+v: only %d campaign failures before it", c, n)
			}
		}
	}

	// Postfix SASL failures: at least 70 % name no user.
	var sasl, unnamed int
	for _, fs := range ix.fails {
		for _, f := range fs {
			if f.sasl {
				sasl++
				if !f.hasUser {
					unnamed++
				}
			}
		}
	}
	if sasl < 100 || unnamed*10 < sasl*7 {
		t.Errorf("%d of %d Postfix SASL failures unnamed", unnamed, sasl)
	}

	// Offices: 4–6 NATs with 12–36 users; typos fixed moments later.
	if len(tr.Offices) < 4 || len(tr.Offices) > 6 {
		t.Errorf("%d offices", len(tr.Offices))
	}
	for _, o := range tr.Offices {
		if len(o.Users) < 12 || len(o.Users) > 36 {
			t.Errorf("office %s: %d users", o.Addr, len(o.Users))
		}
		for _, u := range o.Users {
			if !own[u][o.Addr] {
				t.Errorf("office %s: not an own address of %s", o.Addr, u)
			}
		}
		typos := 0
		for _, f := range ix.fails[o.Addr] {
			for _, s := range ix.success[o.Addr] {
				if d := s.at.Sub(f.at); d > 0 && d <= 2*time.Minute && (!f.hasUser || s.user == f.user) && slices.Contains(o.Users, s.user) {
					typos++
					break
				}
			}
		}
		if typos < 3 || typos != len(ix.fails[o.Addr]) {
			t.Errorf("office %s: %d of %d failures fixed within 2 minutes", o.Addr, typos, len(ix.fails[o.Addr]))
		}
	}

	// Stale devices: the user's own address, failures as counted, and the
	// user's other devices keep working.
	staleUsers := map[string]bool{}
	for _, s := range tr.StaleDevices {
		staleUsers[s.User] = true
		if !own[s.User][s.Addr] {
			t.Errorf("stale %+v: not the user's own address", s)
		}
		n := 0
		for _, f := range ix.fails[s.Addr] {
			if f.user == s.User || !f.hasUser {
				n += f.attempts
			}
		}
		if n < s.Failures || s.Failures == 0 {
			t.Errorf("stale %+v: %d failures in the log", s, n)
		}
	}
	if len(staleUsers) < 5 || len(staleUsers) > 10 {
		t.Errorf("%d stale users", len(staleUsers))
	}
	if len(tr.NewPhones) < 2 || len(tr.NewPhones) > 3 {
		t.Errorf("%d new phones", len(tr.NewPhones))
	}
	for _, np := range tr.NewPhones {
		fs := ix.fails[np.Addr]
		ss := ix.success[np.Addr]
		if len(fs) != np.Failures || np.Failures < 3 || np.Failures > 8 || len(ss) == 0 || !ss[0].at.Equal(np.Success) || ss[0].user != np.User {
			t.Errorf("new phone %+v: %d failures, successes %v", np, len(fs), ss)
			continue
		}
		if fs[len(fs)-1].at.After(np.Success) || !own[np.User][np.Addr] {
			t.Errorf("new phone %+v: failures after the success, or not own", np)
		}
	}

	// Every failure from a non-attacker address is a typo, a stale device
	// or a new phone.
	explained := map[string]bool{}
	for _, s := range tr.StaleDevices {
		explained[s.Addr] = true
	}
	for _, np := range tr.NewPhones {
		explained[np.Addr] = true
	}
	for _, o := range tr.Offices {
		explained[o.Addr] = true
	}
	for addr := range ix.fails {
		if atk[addr] == nil && !explained[addr] {
			t.Errorf("failures from %s are in no truth entry", addr)
		}
	}
}

func compTime(tr *Truth, addr string) time.Time {
	for _, c := range tr.Compromises {
		if c.Addr == addr {
			return c.Success
		}
	}
	return time.Time{}
}

func TestTruthJSON(t *testing.T) {
	td := day60k(t)
	var buf bytes.Buffer
	if err := td.truth.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, k := range []string{`"Attackers": [`, `"Campaigns": [`, `"Intermediaries": [`, `"Succeeded": []`, "\n  \"Lines\": "} {
		if !strings.Contains(s, k) {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// BenchmarkWriteDay writes the default day (1M lines); the target is well
// under 2 s per op.
func BenchmarkWriteDay(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		tr, err := WriteDay(io.Discard, DayConfig{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(tr.Lines), "lines/op")
	}
}
