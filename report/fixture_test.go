package report

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test ./report -update to accept)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// Hostile user names and texts used across the tests.
const (
	userANSI    = "\x1b[2J\x1b]0;pwned\x07root"
	userFormula = `=HYPERLINK("http://evil.example/","x")`
	userNewline = "a\nb"
	userInvalid = "bad\xff\xfeutf8"
	userBidi    = "admin\u202egpj.exe\u2066x\u2069"
	userC1      = "c1\u009b31mred"
)

func at(min, sec int) time.Time { return time.Date(2026, 11, 22, 10, min, sec, 0, time.UTC) }

var (
	originDevice = ipranges.Origin{Class: ipranges.Device, ASN: 64500, ASOrg: "Example Telecom", Country: "DE"}
	originEXO    = ipranges.Origin{
		Class: ipranges.Intermediary, Provider: "microsoft",
		Product:    "Exchange Online (new Outlook, Outlook.com sync)",
		Labels:     []ipranges.Label{{Name: "ms-exchange-online", Prefix: "52.96.0.0/14", Source: "o365-worldwide.json", Date: "2026-07-31"}},
		Confidence: ipranges.High, ASN: 8075, ASOrg: "MICROSOFT-CORP-MSN-AS-BLOCK", Country: "US",
	}
	originMobile = ipranges.Origin{
		Class: ipranges.Intermediary, Provider: "microsoft", Product: "Outlook mobile",
		Labels:     []ipranges.Label{{Name: "ms-outlook-mobile", Prefix: "52.125.128.0/20", Source: "builtin", Date: "2026-07-31"}},
		Confidence: ipranges.Medium, ASN: 8075, Country: "NL",
	}
	originHosting = ipranges.Origin{Class: ipranges.Hosting, Provider: "amazon", Confidence: ipranges.Medium,
		Labels: []ipranges.Label{{Name: "aws-ec2", Prefix: "198.51.100.0/24", Source: "ip-ranges.json", Date: "2026-11-01"}}}
	originPrivate = ipranges.Origin{Class: ipranges.Private, Confidence: ipranges.High}
	originHostile = ipranges.Origin{Class: ipranges.Hosting, Provider: "evil\x1b[31m", Product: "-cmd|' /C calc'!A0"}
)

// fixtureEvent is an event with the origin the caller classified it as.
type fixtureEvent struct {
	ev parse.Event
	o  ipranges.Origin
}

func login(min, sec int, user, rip, svc string, r parse.Result, tls parse.TLS) parse.Event {
	return parse.Event{
		Time: at(min, sec), Host: "mx1", Program: "dovecot", Kind: parse.KindLogin, Service: svc,
		Result: r, User: user, HasUser: true, RemoteIP: rip, Addr: netip.MustParseAddr(rip),
		LocalIP: "192.0.2.25", TLS: tls, Method: "PLAIN", Session: "sess" + rip,
		File: "/var/log/mail.log", Line: min*60 + sec,
	}
}

// fixtureEvents is the fixed list of events behind every golden file.
func fixtureEvents() []fixtureEvent {
	sasl := parse.Event{Time: at(1, 0), Host: "mx1", Program: "postfix/submission/smtpd", Kind: parse.KindSASL,
		Service: "submission", Result: parse.Success, User: "bob", HasUser: true, RemoteIP: "198.51.100.7",
		Addr: netip.MustParseAddr("198.51.100.7"), Method: "LOGIN", Session: "smtpd[4242]", File: "/var/log/mail.log", Line: 60}
	auth := parse.Event{Time: at(2, 1).Add(123456 * time.Microsecond), Program: "dovecot", Kind: parse.KindAuth,
		Result: parse.Failure, User: "admin", HasUser: true, Reason: "unknown user", File: "/var/log/mail.log", Line: 121}
	attempts := login(2, 0, "admin", "192.0.2.66", "imap", parse.Failure, parse.TLSNo)
	attempts.Attempts = 3
	attempts.Reason = "auth failed, 3 attempts in 6 secs"
	noUser := login(2, 5, "", "192.0.2.66", "pop3", parse.Aborted, parse.TLSNo)
	noUser.HasUser = false
	noUser.Reason = "no auth attempts"
	noUser.Method = ""
	empty := login(3, 0, "", "::ffff:10.0.0.9", "imap", parse.Success, parse.TLSNo)
	empty.Secured = true
	refused := login(3, 30, "alice", "203.0.113.5", "imap", parse.Success, parse.TLSYes)
	refused.Refused = true
	refused.Reason = "Maximum number of connections from user+IP exceeded"
	zeroTime := login(0, 0, "carol", "2001:db8::7", "managesieve", parse.Success, parse.TLSUnknown)
	zeroTime.Time = time.Time{}
	zeroTime.Host = ""
	zeroTime.LocalIP = ""
	zeroTime.Session = ""
	hostileReason := login(4, 0, userBidi, "2001:db8::66", "imap", parse.Failure, parse.TLSYes)
	hostileReason.Reason = "bad\x1b[0m\r\nreason\u202e"
	return []fixtureEvent{
		{login(0, 1, "alice", "203.0.113.5", "imap", parse.Success, parse.TLSYes), originDevice},
		{login(0, 2, "alice", "52.98.204.101", "imap", parse.Success, parse.TLSYes), originEXO},
		{login(0, 3, "alice", "52.98.207.109", "imap", parse.Success, parse.TLSYes), originEXO},
		{login(0, 4, "alice", "52.98.204.101", "imap", parse.Success, parse.TLSYes), originEXO},
		{login(0, 5, "alice", "52.125.138.9", "imap", parse.Success, parse.TLSYes), originMobile},
		{sasl, originHosting},
		{login(1, 10, "bob", "198.51.100.7", "pop3", parse.Success, parse.TLSNo), originHosting},
		{login(1, 20, "bob", "198.51.100.7", "imap", parse.Success, parse.TLSYes), originHosting},
		{attempts, ipranges.Origin{}},
		{auth, ipranges.Origin{}},
		{noUser, ipranges.Origin{}},
		{login(2, 10, userANSI, "192.0.2.66", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{}},
		{login(2, 11, userFormula, "192.0.2.66", "imap", parse.Aborted, parse.TLSNo), ipranges.Origin{}},
		{login(2, 12, userNewline, "192.0.2.66", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{}},
		{login(2, 13, userInvalid, "192.0.2.66", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{}},
		{login(2, 14, userC1, "192.0.2.66", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{}},
		{login(2, 15, "admin", "192.0.2.66", "imap", parse.Failure, parse.TLSNo), ipranges.Origin{}},
		{empty, originPrivate},
		{refused, originDevice},
		{zeroTime, ipranges.Origin{}},
		{hostileReason, originHostile},
		{login(5, 0, userFormula, "203.0.113.99", "imap", parse.Success, parse.TLSYes), originDevice},
	}
}

// fixtureMalformed is the fixed list of malformed lines.
func fixtureMalformed() []parse.Event {
	return []parse.Event{
		{File: "/var/log/mail.log", Line: 7, Program: "dovecot", Reason: "rip= cut short"},
		{File: "/var/log/mail.log.1", Line: 99, Program: "postfix/smtpd", Reason: "user=<\x1b[2J> not closed"},
	}
}

// fixtureFindings is the fixed list of findings behind the golden files.
func fixtureFindings() []rules.Finding {
	return []rules.Finding{
		{Rule: "cloud-intermediary", Severity: rules.Info, User: "alice", HasUser: true,
			RemoteIP: "52.98.204.101", Origin: originEXO, First: at(0, 2), Last: at(0, 4), Count: 2,
			Evidence: []string{"/var/log/mail.log:2", "/var/log/mail.log:4"},
			Message:  "alice's mailbox is accessed through Exchange Online."},
		{Rule: "brute-force", Severity: rules.High, RemoteIP: "192.0.2.66", First: at(2, 0), Last: at(2, 15),
			Count: 9, Evidence: []string{"/var/log/mail.log:120", "/var/log/mail.log:130"},
			Message: "9 failed logins from 192.0.2.66 in 15s."},
		{Rule: "spraying", Severity: rules.Medium, First: at(2, 0), Last: at(2, 15), Count: 6,
			Addresses: []string{"192.0.2.66", "2001:db8::66"},
			Message:   "6 users tried: 100% of them unknown,\r\n::warning::injected"},
		{Rule: "new-device", Severity: rules.Low, User: userANSI, HasUser: true, RemoteIP: "203.0.113.99",
			Origin: originHostile, First: at(5, 0), Last: at(5, 0), Count: 1,
			Evidence: []string{"we,ird:file:12"}, Message: "first login of " + userFormula + "\nfrom 203.0.113.99"},
	}
}

// fixtureSummary feeds the fixture into a new Summary.
func fixtureSummary() *Summary {
	s := NewSummary()
	s.Lines = 1000
	s.LongLines = 2
	s.Files = 2
	s.InputErrors = 1
	for _, fe := range fixtureEvents() {
		s.Add(fe.ev, fe.o)
	}
	for _, m := range fixtureMalformed() {
		s.AddMalformed(m)
	}
	return s
}
