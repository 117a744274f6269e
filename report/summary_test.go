package report

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

func TestSummaryCounts(t *testing.T) {
	s := fixtureSummary()
	tot := s.Totals()
	want := Totals{Lines: 1000, LongLines: 2, Files: 2, InputErrors: 1, Malformed: 2, Probes: 1,
		Logins:      ResultCounts{Success: 11, Failure: 7, Aborted: 2},
		SASL:        ResultCounts{Success: 1},
		AuthDetails: ResultCounts{Failure: 1},
	}
	if tot != want {
		t.Errorf("Totals\n got %+v\nwant %+v", tot, want)
	}
	fails := s.Failures()
	if len(fails) != 2 {
		t.Fatalf("%d failing addresses, want 2", len(fails))
	}
	// 192.0.2.66: one line with 3 attempts, six lines of one (one of
	// them an abort after naming a user), and one abort of user=<> with
	// no attempt, which is a probe, not a failure, and names no user;
	// the auth-process detail line for admin is not counted.
	got := fails[0]
	if got.RemoteIP != "192.0.2.66" || got.Count != 9 || got.Events != 7 || got.Probes != 1 || got.Users != 6 ||
		len(got.UserExamples) != UserExampleLimit || got.UserExamples[0] != "admin" ||
		!got.First.Equal(at(2, 0)) || !got.Last.Equal(at(2, 15)) || !slices.Equal(got.Services, []string{"imap", "pop3"}) {
		t.Errorf("failures of 192.0.2.66: %+v", got)
	}
}

func TestSummaryLogins(t *testing.T) {
	logins := fixtureSummary().Logins()
	type row struct {
		user, rip  string
		count, ref int64
		tls        string
	}
	var got []row
	for _, l := range logins {
		got = append(got, row{l.User, l.RemoteIP, l.Count, l.Refused, l.TLS})
	}
	want := []row{
		{"", "10.0.0.9", 1, 0, "no"}, // ::ffff:10.0.0.9 unmapped
		{userFormula, "203.0.113.99", 1, 0, "yes"},
		{"alice", "52.98.204.101", 2, 0, "yes"},
		{"alice", "203.0.113.5", 2, 1, "yes"},
		{"alice", "52.98.207.109", 1, 0, "yes"},
		{"alice", "52.125.138.9", 1, 0, "yes"},
		{"bob", "198.51.100.7", 3, 0, "mixed"},
		{"carol", "2001:db8::7", 1, 0, "unknown"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Logins\n got %v\nwant %v", got, want)
	}
	if l := logins[len(logins)-1]; !l.First.IsZero() || !l.Last.IsZero() {
		t.Errorf("carol's zero time became %v..%v", l.First, l.Last)
	}
}

func TestTLSVerdict(t *testing.T) {
	tests := []struct {
		name string
		tls  []parse.TLS
		want string
	}{
		{"yes", []parse.TLS{parse.TLSYes}, "yes"},
		{"no", []parse.TLS{parse.TLSNo, parse.TLSNo}, "no"},
		{"mixed", []parse.TLS{parse.TLSYes, parse.TLSNo}, "mixed"},
		{"unknown", []parse.TLS{parse.TLSUnknown}, "unknown"},
		{"unknown does not change yes", []parse.TLS{parse.TLSUnknown, parse.TLSYes}, "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummary()
			for _, v := range tt.tls {
				s.Add(login(0, 0, "u", "192.0.2.1", "imap", parse.Success, v), ipranges.Origin{})
			}
			if got := s.Logins()[0].TLS; got != tt.want {
				t.Errorf("TLS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummaryBoundedMemory(t *testing.T) {
	s := NewSummary()
	const n = 10000
	for i := range n {
		// A spraying address: attacker-chosen distinct user names.
		s.Add(login(0, 0, fmt.Sprintf("user%05d-%s", i, strings.Repeat("x", 100)), "192.0.2.9", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{})
		// One user logging in many times.
		s.Add(login(0, 0, "alice", "192.0.2.1", "imap", parse.Success, parse.TLSYes), ipranges.Origin{})
	}
	if len(s.pairs) != 1 || len(s.fails) != 1 {
		t.Errorf("%d pairs and %d failing addresses, want 1 and 1", len(s.pairs), len(s.fails))
	}
	f := s.Failures()[0]
	if f.Users != n || len(f.UserExamples) != UserExampleLimit || f.Count != n {
		t.Errorf("users %d examples %d count %d, want %d, %d, %d", f.Users, len(f.UserExamples), f.Count, n, UserExampleLimit, n)
	}
	if got := s.Logins()[0].Count; got != n {
		t.Errorf("alice's count %d, want %d", got, n)
	}
	for i := range MalformedLimit + 50 {
		s.AddMalformed(parse.Event{File: "f", Line: i + 1, Program: "dovecot", Reason: "r"})
	}
	kept, total := s.Malformed()
	if len(kept) != MalformedLimit || total != MalformedLimit+50 || kept[0].Line != 1 {
		t.Errorf("malformed kept %d of %d", len(kept), total)
	}
}

func TestSummaryMappedAddress(t *testing.T) {
	s := NewSummary()
	s.Add(login(0, 1, "u", "192.0.2.1", "imap", parse.Success, parse.TLSYes), ipranges.Origin{})
	s.Add(login(0, 2, "u", "::ffff:192.0.2.1", "imap", parse.Success, parse.TLSYes), ipranges.Origin{})
	unparsed := login(0, 3, "u", "192.0.2.1", "imap", parse.Success, parse.TLSYes)
	unparsed.Addr, unparsed.RemoteIP = netip.Addr{}, "unknown"
	s.Add(unparsed, ipranges.Origin{})
	got := s.Logins()
	if len(got) != 2 || got[0].RemoteIP != "192.0.2.1" || got[0].Count != 2 || got[1].RemoteIP != "unknown" {
		t.Errorf("Logins = %+v", got)
	}
}

func TestIntermediaries(t *testing.T) {
	s := NewSummary()
	for i := range 7 {
		ip := fmt.Sprintf("52.98.1.%d", i)
		for j := 0; j <= i; j++ {
			s.Add(login(i, j, "dave", ip, "imap", parse.Success, parse.TLSYes), originEXO)
		}
	}
	s.Add(login(9, 0, "dave", "52.125.138.1", "imap", parse.Success, parse.TLSYes), originMobile)
	s.Add(login(9, 0, "dave", "203.0.113.1", "imap", parse.Success, parse.TLSYes), originDevice)
	got := s.Intermediaries()
	if len(got) != 2 {
		t.Fatalf("%d groups, want 2: %+v", len(got), got)
	}
	exo := got[0]
	if exo.Product != originEXO.Product || exo.Count != 28 || exo.AddressCount != 7 ||
		!slices.Equal(exo.Addresses, []string{"52.98.1.6", "52.98.1.5", "52.98.1.4", "52.98.1.3", "52.98.1.2"}) ||
		!exo.First.Equal(at(0, 0)) || !exo.Last.Equal(at(6, 6)) ||
		!slices.Equal(exo.ASNs, []uint32{8075}) || !slices.Equal(exo.Countries, []string{"US"}) {
		t.Errorf("EXO group: %+v", exo)
	}
	if got[1].Product != "Outlook mobile" || got[1].Count != 1 {
		t.Errorf("mobile group: %+v", got[1])
	}
	// The table of own devices leaves the intermediaries out.
	var b bytes.Buffer
	if err := writeLoginsTable(&b, s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "52.98.1.") || !strings.Contains(b.String(), "203.0.113.1") {
		t.Errorf("logins table:\n%s", b.String())
	}
}

func TestFailuresTableCapped(t *testing.T) {
	s := NewSummary()
	for i := range tableFailureLimit + 10 {
		ev := login(0, 0, "root", fmt.Sprintf("192.0.2.%d", i), "imap", parse.Failure, parse.TLSNo)
		ev.Attempts = i + 1
		ev.Time = time.Time{}
		s.Add(ev, ipranges.Origin{})
	}
	var b bytes.Buffer
	if err := writeFailuresTable(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, fmt.Sprintf("top %d of %d addresses", tableFailureLimit, tableFailureLimit+10)) {
		t.Errorf("no cap in the title:\n%s", out)
	}
	if got := strings.Count(out, "| 192.0.2."); got != tableFailureLimit {
		t.Errorf("%d rows, want %d", got, tableFailureLimit)
	}
	// Sorted by count: the address with the most attempts comes first.
	if !strings.Contains(strings.Split(out, "\n")[5], "192.0.2.59 ") {
		t.Errorf("first row is not 192.0.2.59:\n%s", out)
	}
}
