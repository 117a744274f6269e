package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

// crowdSummary has users+1 users: user i logs in i%7+1 times from one
// address of its own, and "many" from addrs addresses (two logins each
// but one, which has one).
func crowdSummary(users, addrs int) *Summary {
	s := NewSummary()
	for i := range users {
		rip := fmt.Sprintf("10.%d.%d.1", i/250, i%250)
		for range i%7 + 1 {
			s.Add(login(1, 0, fmt.Sprintf("u%03d", i), rip, "imap", parse.Success, parse.TLSYes), originDevice)
		}
	}
	for j := range addrs {
		rip := fmt.Sprintf("192.0.2.%d", j+1)
		for k := range 2 {
			if j == addrs-1 && k == 1 {
				break
			}
			s.Add(login(2, j, "many", rip, "pop3", parse.Success, parse.TLSYes), originDevice)
		}
	}
	return s
}

func TestLoginsTableBounded(t *testing.T) {
	tests := []struct {
		name          string
		users, addrs  int
		title         string
		rows          int // table rows under the header
		golden        string
		absent, shown []string
	}{
		{name: "small: every row", users: 10, addrs: 3,
			title: "Logins per user and address (own devices", rows: 13},
		{name: "one user with many addresses", users: 10, addrs: tableAddressLimit + 5,
			title: fmt.Sprintf("(at most %d addresses per user, all in --format json;", tableAddressLimit),
			rows:  10 + tableAddressLimit + 1, golden: "scan-logins-addresses.table.txt",
			shown: []string{"| many | (+5 more addresses) |      9 |"}},
		{name: "more users than shown", users: tableUserLimit + 50, addrs: 2,
			title: fmt.Sprintf("(top %d of %d users by logins, all in --format json;", tableUserLimit, tableUserLimit+51),
			rows:  tableUserLimit - 1 + 2, golden: "scan-logins-top.table.txt",
			// u000 logs in once, as do u007, u014, …: the fewest; of
			// the users with two logins (u001, u008, …) the first by
			// name are kept: up to u141.
			absent: []string{"| u000 ", "| u007 ", "| u245 ", "| u148 ", "| u246 "},
			shown:  []string{"| u006 ", "| many ", "| u141 ", "| u247 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := crowdSummary(tt.users, tt.addrs)
			var b bytes.Buffer
			if err := WriteScanTable(&Page{Writer: &b, Width: 0}, Table, TableLogins, s, nil); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if !strings.Contains(lines[0], tt.title) {
				t.Errorf("title %q, want it to hold %q", lines[0], tt.title)
			}
			// title, border, header, border, rows, border
			if got := len(lines) - 5; got != tt.rows {
				t.Errorf("%d rows, want %d:\n%s", got, tt.rows, out)
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("%q shown, want it left out", a)
				}
			}
			for _, a := range tt.shown {
				if !strings.Contains(out, a) {
					t.Errorf("%q not shown:\n%s", a, out)
				}
			}
			if tt.golden != "" {
				golden(t, tt.golden, b.Bytes())
			}
			// JSON keeps every pair.
			b.Reset()
			if err := WriteScanTable(&b, JSONL, TableLogins, s, nil); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Count(b.String(), "\n"), tt.users+tt.addrs; got != want {
				t.Errorf("jsonl: %d rows, want %d", got, want)
			}
		})
	}
}

func TestIntermediariesTableBounded(t *testing.T) {
	s := NewSummary()
	n := tableUserLimit + 3
	for i := range n {
		for range 1 + i%2 {
			s.Add(login(1, 0, fmt.Sprintf("u%03d", i), "52.98.1.1", "imap", parse.Success, parse.TLSYes), originEXO)
		}
	}
	var b bytes.Buffer
	if err := WriteScanTable(&Page{Writer: &b, Width: 0}, Table, TableIntermediaries, s, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if want := fmt.Sprintf("top %d of %d users by logins, all in --format json)", tableUserLimit, n); !strings.Contains(out, want) {
		t.Errorf("title: want %q in\n%.300s", want, out)
	}
	// The users with one login (the even ones) are the first left out,
	// the last by name first.
	if strings.Contains(out, "| u198 ") || strings.Contains(out, "| u202 ") ||
		!strings.Contains(out, "| u000 ") || !strings.Contains(out, "| u196 ") || !strings.Contains(out, "| u201 ") {
		t.Errorf("wrong users kept:\n%s", out)
	}
	if got := len(regexp.MustCompile(`\| u\d{3} `).FindAllString(out, -1)); got != tableUserLimit {
		t.Errorf("%d rows, want %d", got, tableUserLimit)
	}
	if got := len(s.Intermediaries()); got != n {
		t.Errorf("Intermediaries: %d rows, want %d", got, n)
	}
}

func fail(sec int, user, rip string) parse.Event {
	ev := login(3, sec, user, rip, "imap", parse.Failure, parse.TLSYes)
	ev.Attempts = 1
	return ev
}

func TestFailureAddressLimit(t *testing.T) {
	s := NewSummary()
	s.failLimit = 8
	// Four busy addresses first, then 40 with one failure each.
	for i := range 4 {
		for k := range 10 + i {
			s.Add(fail(k, fmt.Sprintf("name%d", k), fmt.Sprintf("198.51.100.%d", i+1)), originHosting)
		}
	}
	for i := range 40 {
		s.Add(fail(i, "x", fmt.Sprintf("203.0.113.%d", i+1)), originHosting)
	}
	checkFailHist(t, s)
	if got := s.FailureAddresses(); got > 8 {
		t.Errorf("%d addresses tracked, want at most 8", got)
	}
	if got, want := s.FailuresNotTracked(), int64(44-s.FailureAddresses()); got != want {
		t.Errorf("FailuresNotTracked %d, want %d", got, want)
	}
	if got, want := s.FailedAttempts(), int64(10+11+12+13+40); got != want {
		t.Errorf("FailedAttempts %d, want %d", got, want)
	}
	fails := s.Failures()
	for i, want := range []string{"198.51.100.4", "198.51.100.3", "198.51.100.2", "198.51.100.1"} {
		if fails[i].RemoteIP != want || fails[i].Users != int(13-i) {
			t.Errorf("failure %d: %s with %d users, want %s with %d", i, fails[i].RemoteIP, fails[i].Users, want, 13-i)
		}
	}
	// The last address is always tracked: the oldest went first.
	if last := fails[len(fails)-1]; last.RemoteIP != "203.0.113.40" {
		t.Errorf("the newest address is not tracked: %+v", fails)
	}
	var b bytes.Buffer
	if err := WriteScanTable(&Page{Writer: &b, Width: 0}, Table, TableFailures, s, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "scan-failures-dropped.table.txt", b.Bytes())
}

func TestUserSet(t *testing.T) {
	s := NewSummary()
	for i := range 3 * userSetList {
		s.Add(fail(i, fmt.Sprintf("n%d", i%(2*userSetList)), "198.51.100.9"), originHosting)
	}
	f := s.Failures()[0]
	if f.Users != 2*userSetList || f.Count != 3*userSetList || len(f.UserExamples) != UserExampleLimit {
		t.Errorf("%+v: want %d users, %d failures, %d examples", f, 2*userSetList, 3*userSetList, UserExampleLimit)
	}
}

func TestFindingBlockBounded(t *testing.T) {
	n := blockListLimit + 20
	f := rules.Finding{Rule: rules.RuleSprayCampaign, Severity: rules.High, First: at(0, 0), Last: at(30, 0), Count: n,
		Message: "spray", Campaign: &rules.Campaign{ID: "c1", Attempts: n, Names: n, Services: []string{"imap"}}}
	for i := range n {
		a := netip.AddrFrom4([4]byte{203, 0, byte(113 + i/250), byte(1 + i%250)}).String()
		f.Addresses = append(f.Addresses, a)
		f.Evidence = append(f.Evidence, fmt.Sprintf("mail.log:%d", i+1))
		f.Campaign.Members = append(f.Campaign.Members, rules.Member{Address: a, Attempts: 1, Names: 1,
			Evidence: fmt.Sprintf("mail.log:%d", i+1), First: at(i/60, i%60), Last: at(i/60, i%60)})
	}
	var b bytes.Buffer
	if err := WriteFindings(&b, Table, []rules.Finding{f}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		fmt.Sprintf("(+%d more, all in --format json)", n-blockListLimit),
		fmt.Sprintf("campaign members: %d more (all in --format json)", n-blockListLimit),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the block", want)
		}
	}
	if got := strings.Count(out, "campaign members: 203.0."); got != blockListLimit {
		t.Errorf("%d member lines, want %d", got, blockListLimit)
	}
	if want := "campaign members: 203.0.113.1, attempts 1, names 1, first 2026-11-22T"; !strings.Contains(out, want) {
		t.Errorf("a member is not one phrase (%q)", want)
	}
	if strings.Contains(out, f.Addresses[blockListLimit]+" ") || strings.Contains(out, fmt.Sprintf("mail.log:%d ", blockListLimit+1)) {
		t.Errorf("an address or evidence beyond the limit is shown")
	}
	golden(t, "findings-campaign-bounded.table.txt", b.Bytes())
	// JSON keeps every address and member.
	b.Reset()
	if err := WriteFindings(&b, JSON, []rules.Finding{f}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Addresses []string `json:"addresses"`
			Evidence  []string `json:"evidence"`
			Campaign  struct {
				Members []json.RawMessage `json:"members"`
			} `json:"campaign"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if g := doc.Findings[0]; len(g.Addresses) != n || len(g.Evidence) != n || len(g.Campaign.Members) != n {
		t.Errorf("json: %d addresses, %d evidence, %d members, want %d each", len(g.Addresses), len(g.Evidence), len(g.Campaign.Members), n)
	}
}

// TestOriginsInterned checks that a Summary keeps each distinct origin
// once and gives every row the origin its address was first given.
func TestOriginsInterned(t *testing.T) {
	s := NewSummary()
	for i := range 50 {
		o := originDevice
		if i%2 == 1 {
			o = originHosting
		}
		o.Labels = append([]ipranges.Label(nil), o.Labels...) // a new slice each time, same content
		s.Add(login(1, i, "alice", fmt.Sprintf("198.51.100.%d", i+1), "imap", parse.Success, parse.TLSYes), o)
	}
	if got := len(s.origins); got != 3 {
		t.Errorf("%d origins kept, want 3 (zero, device, hosting)", got)
	}
	for _, l := range s.Logins() {
		ip := netip.MustParseAddr(l.RemoteIP).As4()
		want := ipranges.Device
		if (ip[3]-1)%2 == 1 {
			want = ipranges.Hosting
		}
		if l.Origin.Class != want {
			t.Errorf("%s: %s, want %s", l.RemoteIP, l.Origin.Class, want)
		}
	}
	_ = time.Second
}

// checkFailHist checks the histogram dropFailures uses against the map.
func checkFailHist(t *testing.T, s *Summary) {
	t.Helper()
	var want [failBuckets]int
	for _, f := range s.fails {
		want[failBucket(f.count)]++
	}
	if want != s.failHist {
		t.Errorf("failHist %v, want %v", s.failHist, want)
	}
}

// TestFailureDropOrder drops many times among addresses of every count,
// probes among them: the histogram stays right, the busiest stay, and
// the count of those dropped adds up.
func TestFailureDropOrder(t *testing.T) {
	s := NewSummary()
	s.failLimit = 40
	seen := map[string]bool{}
	for i := range 2000 {
		rip := fmt.Sprintf("203.0.%d.%d", i%7, i%97)
		seen[rip] = true
		if i%11 == 0 {
			ev := login(4, i%60, "", rip, "imap", parse.Aborted, parse.TLSYes)
			ev.HasUser, ev.Attempts, ev.Method = false, 0, ""
			s.Add(ev, originHosting)
		} else {
			s.Add(fail(i%60, "u", rip), originHosting)
		}
		if i == 1500 {
			s.Add(func() parse.Event { ev := fail(0, "big", "198.51.100.200"); ev.Attempts = 500; return ev }(), originHosting)
		}
	}
	checkFailHist(t, s)
	if n := s.FailureAddresses(); n > 40 || n == 0 {
		t.Errorf("%d addresses tracked, want 1..40", n)
	}
	if f := s.Failures()[0]; f.RemoteIP != "198.51.100.200" || f.Count != 500 {
		t.Errorf("the busiest address was dropped: %+v", f)
	}
	if s.FailuresNotTracked() < int64(len(seen)+1-40) {
		t.Errorf("FailuresNotTracked %d, want at least %d", s.FailuresNotTracked(), len(seen)+1-40)
	}
}

// TestPairHashCollisions runs the summary with four hash values for all
// pairs: chained pairs must count and list as with distinct hashes.
func TestPairHashCollisions(t *testing.T) {
	want := crowdSummary(30, 25)
	defer func(m uint64) { pairHashMask = m }(pairHashMask)
	pairHashMask = 3
	got := crowdSummary(30, 25)
	if len(got.pairs) > 4 {
		t.Fatalf("%d hash values, want at most 4", len(got.pairs))
	}
	gl, wl := got.Logins(), want.Logins()
	if len(gl) != 55 || len(gl) != len(wl) {
		t.Fatalf("%d logins with collisions, %d without, want 55", len(gl), len(wl))
	}
	for i := range gl {
		if fmt.Sprint(gl[i]) != fmt.Sprint(wl[i]) {
			t.Errorf("login %d: %+v, want %+v", i, gl[i], wl[i])
		}
	}
}
