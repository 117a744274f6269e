package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// questionEvents is the fixture of the golden files plus events that
// exercise the mechanism and encryption reports.
func questionEvents() []fixtureEvent {
	withMethod := func(ev parse.Event, m string) parse.Event { ev.Method = m; return ev }
	oauth := withMethod(login(6, 0, "alice", "203.0.113.5", "imap", parse.Success, parse.TLSYes), "XOAUTH2")
	cram := withMethod(login(6, 10, "dave", "192.0.2.80", "pop3", parse.Success, parse.TLSNo), "CRAM-MD5")
	scram := withMethod(login(6, 20, "erin", "2001:db8::20", "imap", parse.Success, parse.TLSYes), "SCRAM-SHA-256")
	ext := withMethod(login(6, 30, "erin", "2001:db8::20", "submission", parse.Success, parse.TLSYes), "EXTERNAL")
	noMethod := withMethod(login(6, 40, "frank", "192.0.2.81", "imap", parse.Success, parse.TLSNo), "")
	hostileMethod := withMethod(login(6, 50, userANSI, "192.0.2.82", "pop3", parse.Success, parse.TLSNo), "X\x1b[31mEVIL\u202e")
	loopback := login(7, 0, "carol", "127.0.0.1", "imap", parse.Success, parse.TLSNo)
	loopback.Secured = true
	failedOAuth := withMethod(login(7, 10, "alice", "192.0.2.99", "imap", parse.Failure, parse.TLSNo), "XOAUTH2")
	authOK := parse.Event{Time: at(7, 20), Program: "dovecot", Kind: parse.KindAuth, Result: parse.Success,
		User: "mallory", HasUser: true, Method: "PLAIN"}
	saslNoTLS := parse.Event{Time: at(7, 30), Host: "mx1", Program: "postfix/smtpd", Kind: parse.KindSASL,
		Service: "smtp", Result: parse.Success, User: userFormula, HasUser: true, RemoteIP: "52.98.204.101",
		Addr: netip.MustParseAddr("52.98.204.101"), Method: "PLAIN", Session: "smtpd[77]"}
	return append(fixtureEvents(),
		fixtureEvent{oauth, originDevice},
		fixtureEvent{cram, originDevice},
		fixtureEvent{scram, ipranges.Origin{}},
		fixtureEvent{ext, ipranges.Origin{}},
		fixtureEvent{noMethod, originHostile},
		fixtureEvent{hostileMethod, ipranges.Origin{}},
		fixtureEvent{loopback, originPrivate},
		fixtureEvent{failedOAuth, ipranges.Origin{}},
		fixtureEvent{authOK, ipranges.Origin{}},
		fixtureEvent{saslNoTLS, originEXO},
	)
}

// questionFixtures feeds questionEvents into each accumulator.
func questionFixtures() (*Mechanisms, *Insecure, *Summary) {
	m, in, s := NewMechanisms(), NewInsecure(), NewSummary()
	for _, fe := range questionEvents() {
		m.Add(fe.ev, fe.o)
		in.Add(fe.ev, fe.o)
		s.Add(fe.ev, fe.o)
	}
	return m, in, s
}

// questionWriters are the three report writers over the fixture.
func questionWriters(m *Mechanisms, in *Insecure, s *Summary) map[string]func(*bytes.Buffer, Format) error {
	return map[string]func(*bytes.Buffer, Format) error{
		"mechanisms":     func(b *bytes.Buffer, f Format) error { return WriteMechanisms(b, f, m) },
		"insecure":       func(b *bytes.Buffer, f Format) error { return WriteInsecure(b, f, in) },
		"intermediaries": func(b *bytes.Buffer, f Format) error { return WriteIntermediaries(b, f, s) },
	}
}

var questionNames = []string{"mechanisms", "insecure", "intermediaries"}

func TestQuestionsGolden(t *testing.T) {
	full := questionWriters(questionFixtures())
	empty := questionWriters(NewMechanisms(), NewInsecure(), NewSummary())
	for _, name := range questionNames {
		for _, f := range []Format{Table, JSON, JSONL, CSV} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := full[name](&b, f); err != nil {
					t.Fatal(err)
				}
				golden(t, "questions-"+name+"."+ext(f), b.Bytes())
			})
			t.Run(name+"-empty/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := empty[name](&b, f); err != nil {
					t.Fatal(err)
				}
				if f == JSONL {
					if b.Len() != 0 {
						t.Errorf("empty jsonl = %q, want nothing", b.String())
					}
					return
				}
				golden(t, "questions-"+name+"-empty."+ext(f), b.Bytes())
			})
		}
	}
}

func TestQuestionsUnsupportedFormat(t *testing.T) {
	w := questionWriters(questionFixtures())
	for _, name := range questionNames {
		for _, f := range []Format{GitHub, "yaml"} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				err := w[name](&b, f)
				if err == nil || !strings.Contains(err.Error(), "unknown format") {
					t.Errorf("err = %v, want unknown format", err)
				}
				if b.Len() != 0 {
					t.Errorf("wrote %q on error", b.String())
				}
			})
		}
	}
}

func TestClassifyMechanism(t *testing.T) {
	tests := []struct {
		in   string
		want AuthClass
	}{
		{"PLAIN", PasswordAuth},
		{"plain", PasswordAuth},
		{"LOGIN", PasswordAuth},
		{"CRAM-MD5", PasswordAuth},
		{"DIGEST-MD5", PasswordAuth},
		{"SCRAM-SHA-1", PasswordAuth},
		{"SCRAM-SHA-256-PLUS", PasswordAuth},
		{"NTLM", PasswordAuth},
		{"APOP", PasswordAuth},
		{"XOAUTH2", TokenAuth},
		{"OAUTHBEARER", TokenAuth},
		{"oauthbearer", TokenAuth},
		{"EXTERNAL", OtherAuth},
		{"GSSAPI", OtherAuth},
		{"ANONYMOUS", OtherAuth},
		{"SCRAM", OtherAuth},
		{"\x1b[31m", OtherAuth},
		{"", UnknownAuth},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			if got := ClassifyMechanism(tt.in); got != tt.want {
				t.Errorf("ClassifyMechanism(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// findMech returns the row of user at rip.
func findMech(t *testing.T, rows []MechanismRow, user, rip string) MechanismRow {
	t.Helper()
	for _, r := range rows {
		if r.User == user && r.RemoteIP == rip {
			return r
		}
	}
	t.Fatalf("no mechanisms row for %q at %s in %+v", user, rip, rows)
	return MechanismRow{}
}

func TestMechanismsRows(t *testing.T) {
	m, _, _ := questionFixtures()
	rows := m.Rows()
	names := func(r MechanismRow) []string {
		var out []string
		for _, u := range r.Mechanisms {
			out = append(out, u.Name+"="+string(u.Class)+"×"+strconv.FormatInt(u.Count, 10))
		}
		return out
	}
	tests := []struct {
		name, user, rip string
		count           int64
		mechs           []string
		password, token bool
		services        []string
	}{
		// PLAIN twice (one refused after auth: auth succeeded) and XOAUTH2.
		{"password and token", "alice", "203.0.113.5", 3, []string{"PLAIN=password×2", "XOAUTH2=token×1"}, true, true, []string{"imap"}},
		{"sasl success counts", "bob", "198.51.100.7", 3, []string{"LOGIN=password×1", "PLAIN=password×2"}, true, false, []string{"imap", "pop3", "submission"}},
		{"scram is password", "erin", "2001:db8::20", 2, []string{"EXTERNAL=other×1", "SCRAM-SHA-256=password×1"}, true, false, []string{"imap", "submission"}},
		{"unknown method", "frank", "192.0.2.81", 1, []string{"=unknown×1"}, false, false, []string{"imap"}},
		{"ipv4-mapped unmapped", "", "10.0.0.9", 1, []string{"PLAIN=password×1"}, true, false, []string{"imap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := findMech(t, rows, tt.user, tt.rip)
			if r.Count != tt.count || r.Password != tt.password || r.Token != tt.token ||
				!reflect.DeepEqual(names(r), tt.mechs) || !reflect.DeepEqual(r.Services, tt.services) {
				t.Errorf("row = count %d password %v token %v mechs %v services %v, want %d %v %v %v %v",
					r.Count, r.Password, r.Token, names(r), r.Services, tt.count, tt.password, tt.token, tt.mechs, tt.services)
			}
		})
	}
	t.Run("failures and auth details do not count", func(t *testing.T) {
		for _, r := range rows {
			if r.User == "admin" || r.User == "mallory" || r.RemoteIP == "192.0.2.99" || r.RemoteIP == "192.0.2.66" {
				t.Errorf("unexpected row %+v", r)
			}
		}
	})
	t.Run("sorted by user then address", func(t *testing.T) {
		for i := 1; i < len(rows); i++ {
			a, b := rows[i-1], rows[i]
			if a.User > b.User || (a.User == b.User && a.HasUser == b.HasUser && a.RemoteIP == b.RemoteIP) {
				t.Errorf("rows %d and %d out of order: %q %s, %q %s", i-1, i, a.User, a.RemoteIP, b.User, b.RemoteIP)
			}
		}
	})
}

func TestMechanismsTotals(t *testing.T) {
	m, _, _ := questionFixtures()
	got := map[string]MechanismTotal{}
	var order []AuthClass
	for _, tot := range m.Totals() {
		got[tot.Name] = tot
		order = append(order, tot.Class)
	}
	plain := got["PLAIN"]
	// PLAIN: alice (5 addresses: device, 2×EXO, mobile… plus formula users),
	// counted from the rows; check users <= addresses and the class.
	if plain.Class != PasswordAuth || plain.Users == 0 || plain.Users > plain.Addresses {
		t.Errorf("PLAIN total = %+v", plain)
	}
	if x := got["XOAUTH2"]; x.Count != 1 || x.Users != 1 || x.Addresses != 1 || !x.First.Equal(at(6, 0)) {
		t.Errorf("XOAUTH2 total = %+v, want one login by one user (the failed one not counted)", x)
	}
	for i := 1; i < len(order); i++ {
		if classRank(order[i-1]) > classRank(order[i]) {
			t.Errorf("totals not sorted by class: %v", order)
		}
	}
	var sum, rowsSum int64
	for _, tot := range got {
		sum += tot.Count
	}
	for _, r := range m.Rows() {
		rowsSum += r.Count
	}
	if sum != rowsSum {
		t.Errorf("totals sum %d != rows sum %d", sum, rowsSum)
	}
}

func TestMechanismLimit(t *testing.T) {
	m, in := NewMechanisms(), NewInsecure()
	const n = MechanismLimit + 5
	for i := range n {
		ev := login(0, i, "u", "192.0.2.1", "imap", parse.Success, parse.TLSNo)
		ev.Method = "M" + strconv.Itoa(i)
		m.Add(ev, ipranges.Origin{})
		in.Add(ev, ipranges.Origin{})
		m.Add(ev, ipranges.Origin{}) // a second use of a kept or dropped name
		in.Add(ev, ipranges.Origin{})
	}
	r := m.Rows()[0]
	if len(r.Mechanisms) != MechanismLimit || r.OtherMechanisms != 2*(n-MechanismLimit) || r.Count != 2*n {
		t.Errorf("mechanisms row: %d kept, other %d, count %d; want %d, %d, %d",
			len(r.Mechanisms), r.OtherMechanisms, r.Count, MechanismLimit, 2*(n-MechanismLimit), 2*n)
	}
	ir := in.Rows()[0]
	if len(ir.Mechanisms) != MechanismLimit || ir.OtherMechanisms != 2*(n-MechanismLimit) {
		t.Errorf("insecure row: %d kept, other %d", len(ir.Mechanisms), ir.OtherMechanisms)
	}
	var b bytes.Buffer
	if err := WriteMechanisms(&Page{Writer: &b}, Table, m); err != nil {
		t.Fatal(err)
	}
	if want := "other (" + strconv.Itoa(2*(n-MechanismLimit)) + ")"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
}

func TestInsecure(t *testing.T) {
	_, in, _ := questionFixtures()
	type key struct{ user, rip, service string }
	got := map[key]int64{}
	for _, r := range in.Rows() {
		got[key{r.User, r.RemoteIP, r.Service}] = r.Count
	}
	want := map[key]int64{
		{"bob", "198.51.100.7", "pop3"}:  1,
		{"dave", "192.0.2.80", "pop3"}:   1,
		{"frank", "192.0.2.81", "imap"}:  1,
		{userANSI, "192.0.2.82", "pop3"}: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v\nwant %v", got, want)
	}
	tot := in.Totals()
	// Successful login/SASL events of questionEvents: 14 of the fixture
	// (with the refused one) … computed independently here.
	var logins, tls, secured, unknown int64
	for _, fe := range questionEvents() {
		ev := fe.ev
		if ev.Result != parse.Success || ev.Kind == parse.KindAuth {
			continue
		}
		logins++
		switch {
		case ev.TLS == parse.TLSYes:
			tls++
		case ev.Secured:
			secured++
		case ev.TLS == parse.TLSUnknown:
			unknown++
		}
	}
	wantTot := InsecureTotals{Logins: logins, Cleartext: 4, TLS: tls, Secured: secured, TLSUnknown: unknown}
	if tot != wantTot {
		t.Errorf("totals = %+v, want %+v", tot, wantTot)
	}
	if tot.Secured != 2 || tot.TLSUnknown != 3 {
		t.Errorf("fixture drifted: secured %d (want 2: ::ffff:10.0.0.9 and 127.0.0.1), unknown %d (want 3: two SASL, one managesieve)", tot.Secured, tot.TLSUnknown)
	}
	svcs := in.Services()
	wantSvcs := []InsecureService{
		{Service: "pop3", Count: 3, Users: 3, Addresses: 3, First: at(1, 10), Last: at(6, 50)},
		{Service: "imap", Count: 1, Users: 1, Addresses: 1, First: at(6, 40), Last: at(6, 40)},
	}
	if !reflect.DeepEqual(svcs, wantSvcs) {
		t.Errorf("services = %+v\nwant %+v", svcs, wantSvcs)
	}
	var b bytes.Buffer
	if err := WriteInsecure(&b, Table, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Note: 3 successful logins come from lines that do not say whether TLS was used (e.g. Postfix SASL lines)") {
		t.Errorf("table lacks the TLS-unknown note:\n%s", b.String())
	}
}

// TestQuestionsHostile checks that no raw control or bidi character of the
// hostile fixture reaches a table or CSV, and that JSON keeps the exact
// values.
func TestQuestionsHostile(t *testing.T) {
	w := questionWriters(questionFixtures())
	for _, name := range questionNames {
		for _, f := range []Format{Table, CSV, JSON, JSONL} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := w[name](&b, f); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				for _, bad := range []string{"\x1b", "\u202e", "\u2066", "\u009b", "\x07", "\xff"} {
					if strings.Contains(out, bad) {
						t.Errorf("output contains %q", bad)
					}
				}
				switch f {
				case CSV:
					recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					for _, rec := range recs[1:] {
						for _, cell := range rec {
							if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
								t.Errorf("formula cell %q", cell)
							}
						}
					}
				case JSON:
					var v map[string]any
					if err := json.Unmarshal(b.Bytes(), &v); err != nil {
						t.Fatalf("invalid JSON: %v\n%s", err, out)
					}
				case JSONL:
					for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
						if !json.Valid([]byte(line)) {
							t.Errorf("invalid JSON line %q", line)
						}
					}
				}
			})
		}
	}
	t.Run("json keeps the exact user and method", func(t *testing.T) {
		var b bytes.Buffer
		m, _, _ := questionFixtures()
		if err := WriteMechanisms(&b, JSON, m); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Mechanisms []struct {
				User       *string `json:"user"`
				Mechanisms []struct {
					Name *string `json:"name"`
				} `json:"mechanisms"`
			} `json:"mechanisms"`
		}
		if err := json.Unmarshal(b.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range v.Mechanisms {
			if r.User != nil && *r.User == userANSI {
				found = len(r.Mechanisms) == 1 && r.Mechanisms[0].Name != nil && *r.Mechanisms[0].Name == "X\x1b[31mEVIL\u202e"
			}
		}
		if !found {
			t.Errorf("hostile user and method not decoded exactly from:\n%s", b.String())
		}
	})
}

// TestIntermediariesMatchScan pins the intermediaries report to the scan
// summary's "intermediaries" list: the same objects, key for key.
func TestIntermediariesMatchScan(t *testing.T) {
	_, _, s := questionFixtures()
	var scan, rep bytes.Buffer
	if err := WriteScan(&scan, JSON, s, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteIntermediaries(&rep, JSON, s); err != nil {
		t.Fatal(err)
	}
	var a struct {
		Summary struct {
			Intermediaries json.RawMessage `json:"intermediaries"`
		} `json:"summary"`
	}
	var b struct {
		Intermediaries json.RawMessage `json:"intermediaries"`
	}
	if err := json.Unmarshal(scan.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rep.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Intermediaries) < 10 {
		t.Fatalf("no intermediaries in %s", rep.String())
	}
	if !bytes.Equal(a.Summary.Intermediaries, b.Intermediaries) {
		t.Errorf("intermediaries differ\nscan:   %s\nreport: %s", a.Summary.Intermediaries, b.Intermediaries)
	}
}

func BenchmarkQuestionsAdd(b *testing.B) {
	evs := questionEvents()
	m, in := NewMechanisms(), NewInsecure()
	b.ReportAllocs()
	for b.Loop() {
		for _, fe := range evs {
			m.Add(fe.ev, fe.o)
			in.Add(fe.ev, fe.o)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
