package parse

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// t0 is the stamp "Nov 22 10:00:01" read with Year 2025 in UTC.
var t0 = time.Date(2025, 11, 22, 10, 0, 1, 0, time.UTC)

const (
	els23  = "user=<alice@example.org>, method=PLAIN, rip=203.0.113.45, lip=198.51.100.25, mpid=4121, TLS, session=<6wzJvinOOLisEQAB>"
	login  = "imap-login: Login: " + els23
	hostDV = "Nov 22 10:00:01 mx1 dovecot: "
)

// okLogin is the event of `login` under the F1 framing.
var okLogin = Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap",
	Result: Success, User: "alice@example.org", HasUser: true, RemoteIP: "203.0.113.45",
	Addr: netip.MustParseAddr("203.0.113.45"), LocalIP: "198.51.100.25", TLS: TLSYes,
	Method: "PLAIN", Session: "6wzJvinOOLisEQAB"}

// with returns a copy of e changed by f.
func with(e Event, f func(*Event)) Event { f(&e); return e }

type parseCase struct {
	name string
	line string
	st   Status
	want Event
}

func runCases(t *testing.T, p func() *Parser, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, st := p().Parse([]byte(tc.line))
			if st != tc.st || !sameEvent(got, tc.want) {
				t.Errorf("Parse(%q)\n got %v %+v\nwant %v %+v", tc.line, st, got, tc.st, tc.want)
			}
		})
	}
}

// sameEvent compares events, times by instant (zones differ in pointer).
func sameEvent(a, b Event) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	_, ao := a.Time.Zone()
	_, bo := b.Time.Zone()
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b && ao == bo
}

func parser2025() *Parser { return &Parser{Year: 2025, Location: time.UTC} }

func TestFramings(t *testing.T) {
	own := with(okLogin, func(e *Event) { e.Host, e.Program = "", "" })
	cet := time.FixedZone("", 3600)
	runCases(t, parser2025, []parseCase{
		{"F1 rfc3164", hostDV + login, Parsed, okLogin},
		{"F1 pid and padded day", "Nov  2 10:00:01 mx1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = time.Date(2025, 11, 2, 10, 0, 1, 0, time.UTC) })},
		{"F1 bare day", "Nov 2 10:00:01 mx1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = time.Date(2025, 11, 2, 10, 0, 1, 0, time.UTC) })},
		{"F2 pri no host", "<38>Nov 22 10:00:01 dovecot: " + login, Parsed, with(okLogin, func(e *Event) { e.Host = "" })},
		{"F2 pri host", "<38>Nov 22 10:00:01 mx1 dovecot[812]: " + login, Parsed, okLogin},
		{"F2 pri forged ident", "<38>Nov 22 10:00:01 imap-login: Login: " + els23, Ignored, Event{}},
		{"F3 solaris", hostDV + "[ID 583609 mail.info] " + login, Parsed, okLogin},
		{"F4 rsyslog", "2025-11-22T11:00:01.784598+01:00 mx1 dovecot: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = time.Date(2025, 11, 22, 11, 0, 1, 784598000, cet) })},
		{"F4 zulu", "2025-11-22T10:00:01Z mx1 dovecot: " + login, Parsed, okLogin},
		{"F5 rfc5424", "<22>1 2025-11-22T10:00:01.000Z mx1 dovecot 812 - - " + login, Parsed, okLogin},
		{"F5 structured data", `<22>1 2025-11-22T10:00:01Z mx1 dovecot 812 ID47 [meta sequenceId="18" x="a\]b"][o k="v"] ` + login, Parsed, okLogin},
		{"F5 bom", "<22>1 2025-11-22T10:00:01Z mx1 dovecot - - - \xef\xbb\xbf" + login, Parsed, okLogin},
		{"F5 forged app", "<22>1 2025-11-22T10:00:01Z mx1 php 812 - - " + login, Ignored, Event{}},
		{"F6 own file", "Nov 22 10:00:01 imap-login: Info: Login: " + els23, Parsed, own},
		{"F6 own file auth", "Nov 22 10:00:01 auth: Info: ldap(dog,52.37.139.121,): invalid credentials", Parsed,
			Event{Time: t0, Kind: KindAuth, Result: Failure, User: "dog", HasUser: true, RemoteIP: "52.37.139.121",
				Addr: netip.MustParseAddr("52.37.139.121"), Reason: "invalid credentials"}},
		{"F6 level first", "Nov 22 10:00:01 Info: imap-login: Login: " + els23, Parsed, own},
		{"F6 warning", "Nov 22 10:00:01 imap-login: Warning: Login: " + els23, Ignored, Event{}},
		{"F6 iso stamp", "2025-11-22 10:00:01 imap-login: Info: Login: " + els23, Parsed, own},
		{"F7 dovecot 1.x", "dovecot: 2025-11-22 10:00:01 Info: imap-login: Login: " + els23, Parsed, own},
		{"F8 tai64n", "@40000000692189ab00000000 imap-login: Info: Login: " + els23, Parsed, own},
		{"F9 macos", "2025-11-22 11:00:01.250063+0100 mx1 log[64346]: (libdovecot.0.dylib) " + login, Parsed,
			with(okLogin, func(e *Event) {
				e.Program = "log"
				e.Time = time.Date(2025, 11, 22, 11, 0, 1, 250063000, cet)
			})},
		{"F10 short-iso", "2025-11-22T11:00:01+0100 mx1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = time.Date(2025, 11, 22, 11, 0, 1, 0, cet) })},
		{"F10 short-iso colon", "2025-11-22T11:00:01+01:00 mx1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = time.Date(2025, 11, 22, 11, 0, 1, 0, cet) })},
		{"F10 short-precise", "Nov 22 10:00:01.123456 mx1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = t0.Add(123456 * time.Microsecond) })},
		{"F10 ipv6 host", "Nov 22 10:00:01 2001:db8::1 dovecot[812]: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Host = "2001:db8::1" })},
		{"F12 postlog", "Nov 02 10:00:01 mx1 postfix/smtpd[123]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: authentication failure", Parsed,
			Event{Time: time.Date(2025, 11, 2, 10, 0, 1, 0, time.UTC), Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL,
				Service: "smtp", Result: Failure, RemoteIP: "192.0.2.7", Addr: netip.MustParseAddr("192.0.2.7"),
				Method: "LOGIN", Session: "smtpd[123]", Reason: "authentication failure"}},
		{"bare line untrusted", login, Ignored, Event{}},
		{"no stamp", "mx1 dovecot: " + login, Ignored, Event{}},
		{"CRLF", hostDV + login + "\r\n", Parsed, okLogin},
		{"empty", "", Ignored, Event{}},
	})
	p := &Parser{Year: 2025, Location: time.UTC, DovecotFile: true}
	if got, st := p.Parse([]byte(login)); st != Parsed || !sameEvent(got, with(own, func(e *Event) { e.Time = time.Time{} })) {
		t.Errorf("DovecotFile bare line: got %v %+v", st, got)
	}
}

func TestJournald(t *testing.T) {
	want := with(okLogin, func(e *Event) { e.Time = t0.Add(250 * time.Microsecond) })
	us := `"__REALTIME_TIMESTAMP":"1763805601000250"`
	bytesMsg := "["
	for i, c := range []byte(login) {
		if i > 0 {
			bytesMsg += ","
		}
		bytesMsg += strings.TrimSpace(strings.Repeat(" ", 0)) + itoa(int(c))
	}
	bytesMsg += "]"
	runCases(t, parser2025, []parseCase{
		{"string", `{"__CURSOR":"s=1;i=2",` + us + `,"_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"dovecot","_PID":"812","_COMM":"imap-login","MESSAGE":"` + login + `"}`, Parsed, want},
		{"escapes", `{ "MESSAGE" : "imap-login: Login: user=<al\"ice\u00e9\ud83d\ude00>, rip=203.0.113.45" , "SYSLOG_IDENTIFIER":"dovecot",` + us + `,"_HOSTNAME":"mx1"}`, Parsed,
			Event{Time: want.Time, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success,
				User: "al\"iceé😀", HasUser: true, RemoteIP: "203.0.113.45", Addr: netip.MustParseAddr("203.0.113.45"), TLS: TLSNo}},
		{"byte array", `{"MESSAGE":` + bytesMsg + `,"SYSLOG_IDENTIFIER":"dovecot",` + us + `,"_HOSTNAME":"mx1"}`, Parsed, want},
		{"comm fallback", `{"MESSAGE":"` + login + `","_COMM":"dovecot",` + us + `,"_HOSTNAME":"mx1"}`, Parsed, want},
		{"postfix pid", `{"MESSAGE":"warning: unknown[192.0.2.7]: SASL PLAIN authentication aborted","SYSLOG_IDENTIFIER":"postfix/submission/smtpd","_PID":"77",` + us + `}`, Parsed,
			Event{Time: want.Time, Program: "postfix/submission/smtpd", Kind: KindSASL, Service: "smtp", Result: Aborted,
				RemoteIP: "192.0.2.7", Addr: netip.MustParseAddr("192.0.2.7"), Method: "PLAIN", Session: "smtpd[77]", Reason: "authentication aborted"}},
		{"repeated field", `{"MESSAGE":["` + login + `","second"],"SYSLOG_IDENTIFIER":["dovecot","x"],` + us + `,"_HOSTNAME":"mx1"}`, Parsed, want},
		{"null message", `{"MESSAGE":null,"SYSLOG_IDENTIFIER":"dovecot",` + us + `}`, Ignored, Event{}},
		{"logger forgery", `{"MESSAGE":"` + login + `","SYSLOG_IDENTIFIER":"dovecot","_COMM":"logger",` + us + `}`, Ignored, Event{}},
		{"other ident", `{"MESSAGE":"` + login + `","SYSLOG_IDENTIFIER":"php-fpm",` + us + `}`, Ignored, Event{}},
		{"broken json", `{"MESSAGE":"` + login, Ignored, Event{}},
		{"nested values", `{"A":{"b":[1,{"c":"]"}]},"B":[["x"]],"C":true,"D":[1,2],"E":["a","b"],"F":[],"G":-1.5e3,"MESSAGE":"` + login + `","SYSLOG_IDENTIFIER":"dovecot",` + us + `,"_HOSTNAME":"mx1"}`, Parsed, want},
	})
}

func itoa(n int) string {
	if n >= 10 {
		return itoa(n/10) + string(rune('0'+n%10))
	}
	return string(rune('0' + n))
}

func TestDovecotLogin(t *testing.T) {
	ev := func(f func(*Event)) Event { return with(okLogin, f) }
	fail := func(reason string, n int, f func(*Event)) Event {
		return ev(func(e *Event) {
			e.Result, e.Reason, e.Attempts = Failure, reason, n
			if f != nil {
				f(e)
			}
		})
	}
	runCases(t, parser2025, []parseCase{
		{"2.3 login", hostDV + login, Parsed, okLogin},
		{"2.4 logged in", hostDV + "imap-login: Logged in: " + els23, Parsed, okLogin},
		{"inner dovecot ident", "Nov 22 10:00:01 mx1 dovecot[812]: dovecot: " + login, Parsed, okLogin},
		{"info after process", hostDV + "imap-login: Info: Login: " + els23, Parsed, okLogin},
		{"pop3 service", hostDV + "pop3-login: Login: " + els23, Parsed, ev(func(e *Event) { e.Service = "pop3" })},
		{"proxy 2.3", hostDV + "imap-login: proxy(alice@example.org): started proxying to 10.0.0.5:143: " + els23, Parsed, okLogin},
		{"proxy 2.4", hostDV + "imap-login: Started proxying to remote host: " + els23, Parsed, okLogin},
		{"2.3 auth failed", hostDV + "imap-login: Disconnected (auth failed, 2 attempts in 8 secs): " + els23, Parsed,
			fail("auth failed, 2 attempts in 8 secs", 2, nil)},
		{"2.3.15 disconnected reason", hostDV + "imap-login: Disconnected: Connection closed: read(size=1003) failed: Connection reset by peer (auth failed, 1 attempts in 0 secs): " + els23, Parsed,
			fail("auth failed, 1 attempts in 0 secs", 1, nil)},
		{"double disconnected", hostDV + "pop3-login: Disconnected: Disconnected: Too many bad commands (auth failed, 2 attempts in 0 secs): " + els23, Parsed,
			fail("auth failed, 2 attempts in 0 secs", 2, func(e *Event) { e.Service = "pop3" })},
		{"2.4 login aborted", hostDV + "imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): " + els23, Parsed,
			fail("auth failed, 3 attempts in 16 secs", 3, nil)},
		{"2.4 cleartext", hostDV + "imap-login: Login aborted: Logged out (tried to use disallowed cleartext auth, 1 attempts in 0 secs) (cleartext_auth_disabled): " + els23, Parsed,
			fail("tried to use disallowed cleartext auth, 1 attempts in 0 secs", 1, nil)},
		{"2.3 plaintext", hostDV + "pop3-login: Aborted login (tried to use disabled plaintext auth): rip=190.210.136.21, lip=113.212.99.193", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "pop3", Result: Failure,
				RemoteIP: "190.210.136.21", Addr: netip.MustParseAddr("190.210.136.21"), LocalIP: "113.212.99.193",
				TLS: TLSNo, Reason: "tried to use disabled plaintext auth"}},
		{"2.4 unknown human, event says failure", hostDV + "imap-login: Login aborted: Connection closed (something new, 1 attempts in 0 secs) (auth_failed): " + els23, Parsed,
			fail("something new, 1 attempts in 0 secs", 1, nil)},
		{"submission quit", hostDV + "submission-login: Client has quit the connection (auth failed, 1 attempts in 2 secs): " + els23, Parsed,
			fail("auth failed, 1 attempts in 2 secs", 1, func(e *Event) { e.Service = "submission" })},
		{"remote closed", hostDV + "submission-login: Remote closed connection (user disabled): " + els23, Parsed,
			fail("user disabled", 0, func(e *Event) { e.Service = "submission" })},
		{"1.x authentication attempts", "Nov 22 10:00:01 Info: pop3-login: Aborted login (1 authentication attempts): user=<username>, method=PLAIN, rip=::ffff:1.2.3.4, lip=::ffff:1.2.3.5, secured", Parsed,
			Event{Time: t0, Kind: KindLogin, Service: "pop3", Result: Failure, User: "username", HasUser: true,
				RemoteIP: "::ffff:1.2.3.4", Addr: netip.MustParseAddr("::ffff:1.2.3.4"), LocalIP: "::ffff:1.2.3.5",
				TLS: TLSNo, Secured: true, Method: "PLAIN", Attempts: 1, Reason: "1 authentication attempts"}},
		{"no auth attempts", hostDV + "imap-login: Disconnected: Inactivity (no auth attempts in 180 secs): user=<>, rip=203.0.113.45, lip=198.51.100.25, TLS handshaking: SSL_accept() failed: error:0A000126:SSL routines::unexpected eof while reading", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Aborted, HasUser: true,
				RemoteIP: "203.0.113.45", Addr: netip.MustParseAddr("203.0.113.45"), LocalIP: "198.51.100.25",
				TLS: TLSNo, Reason: "no auth attempts in 180 secs"}},
		{"no parenthesis", "Jul  4 17:30:51 hostname dovecot[2992]: pop3-login: Disconnected: rip=1.2.3.4, lip=1.2.3.5", Parsed,
			Event{Time: time.Date(2025, 7, 4, 17, 30, 51, 0, time.UTC), Host: "hostname", Program: "dovecot", Kind: KindLogin,
				Service: "pop3", Result: Aborted, RemoteIP: "1.2.3.4", Addr: netip.MustParseAddr("1.2.3.4"), LocalIP: "1.2.3.5",
				TLS: TLSNo, Reason: "Disconnected"}},
		{"temp fail", hostDV + "imap-login: Disconnected (auth service reported temporary failure): " + els23, Parsed,
			ev(func(e *Event) { e.Result, e.Reason = Aborted, "auth service reported temporary failure" })},
		{"2.3 connection limit", hostDV + "imap-login: Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10): " + els23, Parsed,
			ev(func(e *Event) {
				e.Result, e.Refused = Aborted, true
				e.Reason = "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"
			})},
		{"2.4 connection limit", hostDV + "imap-login: Login aborted: Connection closed (connection limit reached, 1/1 successful auths in 0 secs) (connection_limit): " + els23, Parsed,
			ev(func(e *Event) {
				e.Result, e.Refused, e.Attempts = Aborted, true, 1
				e.Reason = "connection limit reached, 1/1 successful auths in 0 secs"
			})},
		{"ipv6", hostDV + "imap-login: Login: user=<a>, method=PLAIN, rip=2001:db8::5, lip=2001:db8::1, TLS", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "2001:db8::5", Addr: netip.MustParseAddr("2001:db8::5"), LocalIP: "2001:db8::1", TLS: TLSYes, Method: "PLAIN"}},
		{"tls handshaking", hostDV + "imap-login: Login: user=<a>, rip=192.0.2.1, TLS handshaking", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSNo}},
		{"TSL and proxied", hostDV + "imap-login: Login: user=<a>, rip=192.0.2.1, TSL, session=<x>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSYes, Session: "x"}},
		{"TLS proxied", hostDV + "imap-login: Login: user=<a>, rip=192.0.2.1, TLS (proxied)", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSYes}},
		{"cpanel user", hostDV + "imap-login: Login: user=name@example.com, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "name@example.com", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), LocalIP: "192.0.2.2", TLS: TLSNo, Method: "PLAIN"}},
		{"lower-case method", hostDV + "imap-login: Login: user=<a>, method=plain, rip=192.0.2.1", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSNo, Method: "PLAIN"}},
		{"ID sent", hostDV + "imap-login: ID sent: name=Thunderbird, version=128.0: user=<>, rip=6.6.6.6, lip=198.51.100.25", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "6.6.6.6", Addr: netip.MustParseAddr("6.6.6.6"), Client: "Thunderbird", LocalIP: "198.51.100.25"}},
		{"ID sent session", hostDV + "imap-login: ID sent: name=Thunderbird, version=115.3: user=<>, rip=192.0.2.1, lip=198.51.100.25, TLS, session=<IdS0>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Client: "Thunderbird", LocalIP: "198.51.100.25", Session: "IdS0"}},
		{"ID sent no user element", hostDV + "imap-login: Info: ID sent: vendor=Apple Inc., name=iPhone Mail, os=iOS: rip=192.0.2.1, secured, session=<X>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Client: "iPhone Mail", Session: "X"}},
		{"ID sent name not first key", hostDV + "imap-login: ID sent: version=1, name=K-9 Mail, os=Android: user=<>, rip=192.0.2.1", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Client: "K-9 Mail"}},
		{"ID sent hostile text", hostDV + "imap-login: ID sent: name=Evil\x1b[31m\xff: user=<>, rip=6.6.6.6, session=<S2>: user=<>, rip=192.0.2.1, session=<S1>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Client: "Evil?[31m?: user=<>", Session: "S1"}},
		{"ID sent long name", hostDV + "imap-login: ID sent: name=" + strings.Repeat("a", 80) + ": user=<>, rip=192.0.2.1", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Client: strings.Repeat("a", MaxClient)}},
		{"ID sent rip only in ID text", hostDV + "imap-login: ID sent: name=x, rip=6.6.6.6: user=<>, lip=198.51.100.25, session=<S>", Ignored, Event{}},
		{"ID sent rip in ID text, no element list", hostDV + "imap-login: ID sent: name=x: user=<>, rip=6.6.6.6, lip=1.1.1.1: weird", Ignored, Event{}},
		{"ID sent two rips", hostDV + "imap-login: ID sent: name=x: user=<a>, rip=6.6.6.6, rip=192.0.2.1", Ignored, Event{}},
		{"ID sent two sessions", hostDV + "imap-login: ID sent: name=x: rip=192.0.2.1, session=<A>, session=<B>", Ignored, Event{}},
		{"ID sent bad rip", hostDV + "imap-login: ID sent: name=x: user=<>, rip=192.0.2.300", Ignored, Event{}},
		{"ID sent no name", hostDV + "imap-login: ID sent: vendor=x, version=1: user=<>, rip=192.0.2.1", Ignored, Event{}},
		{"ID sent empty name", hostDV + "imap-login: ID sent: name=  : user=<>, rip=192.0.2.1", Ignored, Event{}},
		{"ID sent unknown element", hostDV + "imap-login: ID sent: name=x: user=<>, rip=192.0.2.1, rip6=1", Ignored, Event{}},
		{"ID sent post-login", hostDV + "imap(alice)<4121><6wzJvinOOLisEQAB>: ID sent: name=Thunderbird", Ignored, Event{}},
		{"mail process", hostDV + "imap(alice)<4121><6wzJvinOOLisEQAB>: Logged out in=79 out=1108", Ignored, Event{}},
		{"authenticate verbose", hostDV + "imap-login: Authenticate PLAIN failed: Password mismatch: user=<a>, rip=192.0.2.1", Ignored, Event{}},
		{"error level", hostDV + "imap-login: Error: Login: " + els23, Ignored, Event{}},
		{"no elements", hostDV + "imap-login: Disconnected: a: a: a: test no match", Malformed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Reason: "no rip element"}},
	})
}

func TestInjection(t *testing.T) {
	mal := func(why string) Event {
		return Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Reason: why}
	}
	long := strings.Repeat("x", 1000)
	runCases(t, parser2025, []parseCase{
		{"rip in user", hostDV + "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, TLS, session=<abc>>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.25, TLS, session=<real>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, TLS, session=<abc>", HasUser: true,
				RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"), LocalIP: "198.51.100.25", TLS: TLSYes,
				Method: "PLAIN", Session: "real", Attempts: 1, Reason: "auth failed, 1 attempts in 2 secs"}},
		{"rip in user, no method", hostDV + "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, rip=6.6.6.6>, rip=203.0.113.9, lip=198.51.100.25", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "x>, rip=6.6.6.6", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
				LocalIP: "198.51.100.25", TLS: TLSNo, Attempts: 1, Reason: "auth failed, 1 attempts in 2 secs"}},
		{"user and message in user", hostDV + "imap-login: Disconnected (auth failed, 1 attempts): user=<a: user=<b>, method=X>, method=PLAIN, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "a: user=<b>, method=X", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
				TLS: TLSNo, Method: "PLAIN", Attempts: 1, Reason: "auth failed, 1 attempts"}},
		{"method or user", hostDV + "imap-login: Disconnected (tried to use unsupported auth mechanism): user=<a>, method=EVIL>, rip=203.0.113.9", Malformed, mal("ambiguous user field")},
		{"method or user after attempts", hostDV + "imap-login: Disconnected (auth failed, 1 attempts): user=<a>, method=EVIL>, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "a", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
				TLS: TLSNo, Method: "EVIL>", Attempts: 1, Reason: "auth failed, 1 attempts"}},
		{"unclosed user", hostDV + "imap-login: Disconnected (auth failed, 1 attempts): user=<a, rip=203.0.113.9", Malformed, mal("unterminated user field")},
		{"cpanel user with comma", hostDV + "imap-login: Login: user=a, rip=6.6.6.6, method=PLAIN, rip=203.0.113.9", Malformed, mal("unterminated user field")},
		{"user after rip", hostDV + "imap-login: Login: rip=203.0.113.9, user=<x>, rip=6.6.6.6, lip=1>", Malformed, mal("more than one rip element")},
		{"rip before user", hostDV + "imap-login: Disconnected: rip=203.0.113.9: user=<x>, rip=6.6.6.6", Malformed, mal("rip element outside the user field")},
		{"two rips, no user", hostDV + "imap-login: Disconnected: rip=6.6.6.6, rip=203.0.113.9", Malformed, mal("more than one rip element")},
		{"bad rip", hostDV + "imap-login: Login: user=<a>, rip=198.51.10, lip=198.51.100.25", Malformed, mal("rip is not an IP address")},
		{"rip with text", hostDV + "imap-login: Login: user=<a>, rip=198.51.100.2 x, lip=198.51.100.25", Malformed, mal("rip is not an IP address")},
		{"truncated rip", hostDV + "imap-login: Disconnected: " + long + " (auth failed, 1 attempts): user=<a>, method=PLAIN, rip=198.51.100.2", Malformed, mal("rip ends a possibly truncated line")},
		{"rip ends short line", hostDV + "imap-login: Login: user=<a>, rip=198.51.100.2", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "198.51.100.2", Addr: netip.MustParseAddr("198.51.100.2"), TLS: TLSNo}},
		{"forged logger root", "Nov 22 10:00:01 mx1 root: " + login, Ignored, Event{}},
		{"forged www-data", "Nov 22 10:00:01 mx1 www-data[77]: " + login, Ignored, Event{}},
		{"forged php", "Nov 22 10:00:01 mx1 php: dovecot: " + login, Ignored, Event{}},
		{"forged ident imap-login", "Nov 22 10:00:01 mx1 imap-login: Login: " + els23, Ignored, Event{}},
		{"forged in message", "Nov 22 10:00:01 mx1 sshd[1]: Invalid user imap-login: Login: " + els23, Ignored, Event{}},
		{"auth ident login line", "Nov 22 10:00:01 mx1 auth: " + login, Ignored, Event{}},
		{"auth ident passdb line", "Nov 22 10:00:01 mx1 auth: sql(x,6.6.6.6): unknown user", Ignored, Event{}},
		{"postfix smtp not smtpd", "Nov 22 10:00:01 mx1 postfix/smtp[1]: warning: unknown[6.6.6.6]: SASL LOGIN authentication failed: x", Ignored, Event{}},
		{"postfix imap-login text", "Nov 22 10:00:01 mx1 postfix/smtpd[1]: " + login, Ignored, Event{}},
		{"NUL and bad utf8 in user", hostDV + "imap-login: Login: user=<a\x00\xff\xfe#011b>, rip=192.0.2.1", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a\x00\xff\xfe#011b", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSNo}},
		{"tab and CR inside", hostDV + "imap-login: Login: user=<a\tb\rc>, rip=192.0.2.1\r", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a\tb\rc", HasUser: true,
				RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), TLS: TLSNo}},
	})
}

func TestAuthLines(t *testing.T) {
	auth := func(user, ip, reason string, f func(*Event)) Event {
		e := Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Result: Failure, User: user, HasUser: true,
			RemoteIP: ip, Addr: netip.MustParseAddr(ip), Reason: reason}
		if f != nil {
			f(&e)
		}
		return e
	}
	mal := Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Reason: "ambiguous auth line"}
	runCases(t, parser2025, []parseCase{
		{"2.3 passdb", hostDV + "auth: passwd-file(karen@co.uk,192.168.1.1): unknown user (SHA1 of given password: 21bd12)", Parsed,
			auth("karen@co.uk", "192.168.1.1", "unknown user", func(e *Event) { e.PasswordHash = "21bd12" })},
		{"sha1 hash upper case, trying the next passdb", hostDV + "auth: passwd-file(karen@co.uk,192.168.1.1): Password mismatch (SHA1 of given password: 21BD12AF) - trying the next passdb", Parsed,
			auth("karen@co.uk", "192.168.1.1", "Password mismatch", func(e *Event) { e.PasswordHash = "21bd12af" })},
		{"no hash from non-hex text", hostDV + "auth: passwd-file(karen@co.uk,192.168.1.1): unknown user (SHA1 of given password: zz)", Parsed,
			auth("karen@co.uk", "192.168.1.1", "unknown user", nil)},
		{"2.3 session", hostDV + "auth: sql(admin@example.ru,192.168.144.226,<6rXunFtu493AqJDi>): Password mismatch (given password: hunter2)", Parsed,
			auth("admin@example.ru", "192.168.144.226", "Password mismatch", func(e *Event) { e.Session = "6rXunFtu493AqJDi" })},
		{"worker conn prefix", hostDV + "auth-worker(10377): Info: conn unix:auth-worker (pid=919,uid=112): auth-worker<1>: sql(t@example.com,192.168.1.1): unknown user (given password: Password123$)", Parsed,
			auth("t@example.com", "192.168.1.1", "unknown user", nil)},
		{"pam worker", hostDV + "auth-worker(304): pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)", Parsed,
			auth("username", "1.2.3.4", "pam_authenticate() failed: Authentication failure (password mismatch?)", nil)},
		{"1.x default", hostDV + "auth(default): pam(user@example.com,::ffff:1.2.3.4): pam_authenticate() failed: User not known to the underlying authentication module", Parsed,
			auth("user@example.com", "::ffff:1.2.3.4", "pam_authenticate() failed: User not known to the underlying authentication module", nil)},
		{"2.4 auth", hostDV + "auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: Password mismatch (given password: XxxxXXxx123)", Parsed,
			auth("info@example.com", "192.0.2.110", "Password mismatch", func(e *Event) { e.Method, e.Session = "LOGIN", "CvN+E95Uf4e7eEnj" })},
		{"2.4 worker", hostDV + "auth-worker(info@example.com,1.2.3.4)<4001084><CvN+E95Uf4e7eEnj>: request [12]: Info: sql: Password mismatch - trying the next passdb", Parsed,
			auth("info@example.com", "1.2.3.4", "Password mismatch", func(e *Event) { e.Session = "CvN+E95Uf4e7eEnj" })},
		{"user with comma and paren", hostDV + "auth: sql(a,b) c,6.6.6.6,192.0.2.9): unknown user", Parsed,
			auth("a,b) c,6.6.6.6", "192.0.2.9", "unknown user", nil)},
		{"2.4 user with spaces", hostDV + "auth(john doe,192.0.2.110,sasl:plain)<s1>: sql: unknown user", Parsed,
			auth("john doe", "192.0.2.110", "unknown user", func(e *Event) { e.Method, e.Session = "PLAIN", "s1" })},
		{"username chars", hostDV + "auth: login(?,192.0.2.4,<sess>): Username character disallowed by auth_username_chars: 0x2c (username: a,b)", Parsed,
			auth("a,b", "192.0.2.4", "Username character disallowed by auth_username_chars: 0x2c", func(e *Event) { e.Session = "sess" })},
		{"ip-less lookup", hostDV + "auth: passwd-file(alias@example.org): unknown user", Ignored, Event{}},
		{"ip-less with comma", hostDV + "auth: passwd-file(a,b@example.org): unknown user", Ignored, Event{}},
		{"userdb", "Jan 07 14:46:28 Warn: auth(default): userdb(username,::ffff:127.0.0.1): user not found from userdb", Ignored, Event{}},
		{"marker in user", hostDV + "auth: sql(x,6.6.6.6): unknown user,192.0.2.9): Password mismatch", Malformed, mal},
		{"marker in password", hostDV + "auth: sql(x,192.0.2.9): Password mismatch (given password: ,6.6.6.6): unknown user)", Malformed, mal},
		{"password mark in user", hostDV + "auth: sql(x,6.6.6.6): unknown user (given password: ,192.0.2.9): Password mismatch (given password: secret)", Malformed, mal},
		{"pam_unix", "Apr 19 05:22:20 vm5 auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=informix rhost=80.255.3.104", Parsed,
			Event{Time: time.Date(2025, 4, 19, 5, 22, 20, 0, time.UTC), Host: "vm5", Program: "auth", Kind: KindAuth, Result: Failure,
				User: "informix", HasUser: true, RemoteIP: "80.255.3.104", Addr: netip.MustParseAddr("80.255.3.104"), Reason: "authentication failure"}},
		{"pam ruser injection", hostDV + "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=rhost=1.2.3.4 rhost=192.0.43.10", Parsed,
			auth("rhost=1.2.3.4", "192.0.43.10", "authentication failure", nil)},
		{"pam user suffix", hostDV + "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=root rhost=176.61.140.225  user=root", Parsed,
			auth("root", "176.61.140.225", "authentication failure", nil)},
		{"pam spaced injection", hostDV + "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=x rhost=6.6.6.6 rhost=192.0.2.1  user=x rhost=6.6.6.6", Malformed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Reason: "ambiguous PAM line"}},
		{"pam no rhost", hostDV + "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=x rhost=  user=x", Ignored, Event{}},
		{"pam other service", "Apr 19 05:22:20 vm5 auth: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4", Ignored, Event{}},
	})
}

func TestPasswordsNeverKept(t *testing.T) {
	const secret = "S3cr3t-Pa55"
	lines := []string{
		hostDV + "auth: sql(a,192.0.2.1): Password mismatch (given password: " + secret + ")",
		hostDV + "auth: sql(a,192.0.2.1): unknown user (SHA1 of given password: " + secret + ")",
		hostDV + "auth(a,192.0.2.1,sasl:plain)<s>: Info: sql: Password mismatch (given password: " + secret + ") - trying the next passdb",
		hostDV + "auth-worker(9): conn unix:auth-worker (pid=1,uid=2): auth-worker<3>: sql(a,192.0.2.1): Password mismatch (given password: " + secret + "): unknown user)",
		hostDV + "auth: sql(a,192.0.2.1): Password mismatch (given password: x): " + secret + ")",
		hostDV + "auth: sql(a (given password: " + secret + "),192.0.2.1): Password mismatch",
		hostDV + "auth: login(?,192.0.2.1,<s>): Username character disallowed by auth_username_chars: 0x2c (username: a (given password: " + secret + "))",
	}
	for _, l := range lines {
		var p Parser
		ev, st := p.Parse([]byte(l))
		if st == Ignored {
			t.Errorf("Parse(%q) ignored", l)
		}
		for _, f := range []string{ev.User, ev.Reason, ev.Method, ev.Session, ev.RemoteIP, ev.Host, ev.Program, ev.Service} {
			if strings.Contains(f, secret) || strings.Contains(f, "given password") {
				t.Errorf("Parse(%q): field %q keeps the password", l, f)
			}
		}
	}
}

func TestPostfix(t *testing.T) {
	sasl := func(ip string, f func(*Event)) Event {
		e := Event{Time: t0, Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp", Result: Failure,
			RemoteIP: ip, Addr: netip.MustParseAddr(ip), Method: "LOGIN", Session: "smtpd[123]"}
		f(&e)
		return e
	}
	pf := "Nov 22 10:00:01 mx1 postfix/smtpd[123]: "
	runCases(t, parser2025, []parseCase{
		{"3.8 failure", pf + "warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", Parsed,
			sasl("192.0.2.7", func(e *Event) { e.Reason = "UGFzc3dvcmQ6" })},
		{"empty reason", pf + "warning: host.example[192.0.2.7]: SASL Plain authentication failed:", Parsed,
			sasl("192.0.2.7", func(e *Event) { e.Method = "PLAIN" })},
		{"port", pf + "warning: unknown[192.0.2.237]:55729: SASL LOGIN authentication failed: authentication failure", Parsed,
			sasl("192.0.2.237", func(e *Event) { e.Reason = "authentication failure" })},
		{"3.9 user", pf + "warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=postmaster@example.org", Parsed,
			sasl("203.0.113.10", func(e *Event) { e.Reason, e.User, e.HasUser = "(reason unavailable)", "postmaster@example.org", true })},
		{"3.9 unavailable", pf + "warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: authentication failure, sasl_username=(unavailable)", Parsed,
			sasl("203.0.113.10", func(e *Event) { e.Reason = "authentication failure" })},
		{"3.9 injected user", pf + "warning: unknown[203.0.113.10]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=x]: unknown[6.6.6.6], sasl_username=y", Parsed,
			sasl("203.0.113.10", func(e *Event) {
				e.Reason, e.User, e.HasUser = "(reason unavailable)", "x]: unknown[6.6.6.6], sasl_username=y", true
			})},
		{"ipv6", pf + "warning: unknown[2001:db8::25]:4711: SASL CRAM-MD5 authentication failed: authentication failure", Parsed,
			sasl("2001:db8::25", func(e *Event) { e.Method, e.Reason = "CRAM-MD5", "authentication failure" })},
		{"aborted", pf + "warning: unknown[192.0.2.7]: SASL LOGIN authentication aborted", Parsed,
			sasl("192.0.2.7", func(e *Event) { e.Result, e.Reason = Aborted, "authentication aborted" })},
		{"backend lost", pf + "warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: Connection lost to authentication server", Parsed,
			sasl("192.0.2.7", func(e *Event) { e.Result, e.Reason = Aborted, "Connection lost to authentication server" })},
		{"success", "Nov 22 10:00:01 mx1 postfix/submission/smtpd[123]: 4Xy7Hq1rZ2z9sWN: client=unknown[52.98.204.101], sasl_method=LOGIN, sasl_username=alice@example.org, sasl_sender=<x, orig_client=z>", Parsed,
			sasl("52.98.204.101", func(e *Event) {
				e.Program, e.Result, e.User, e.HasUser = "postfix/submission/smtpd", Success, "alice@example.org", true
			})},
		{"success port noqueue", "Nov 22 10:00:01 mx1 postfix-example.com/smtpd[123]: NOQUEUE: client=mail.example[2001:db8::7]:587, sasl_method=plain, sasl_username=bob", Parsed,
			sasl("2001:db8::7", func(e *Event) {
				e.Program, e.Result, e.User, e.HasUser, e.Method = "postfix-example.com/smtpd", Success, "bob", true, "PLAIN"
			})},
		{"client without sasl", pf + "4Xy7Hq1rZ2z9sWN: client=unknown[52.98.204.101]", Ignored, Event{}},
		{"not sasl warning", pf + "warning: hostname bad.example.com does not resolve to address 192.0.2.44", Ignored, Event{}},
		{"disconnect", pf + "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3", Ignored, Event{}},
		{"bad address", pf + "warning: unknown[unknown]: SASL LOGIN authentication failed: x", Malformed,
			Event{Time: t0, Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp", Reason: "client address is not an IP address"}},
	})
}

func TestYearInference(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	p := &Parser{Location: time.UTC, Now: func() time.Time { return now }}
	for _, c := range []struct {
		stamp string
		year  int
	}{
		{"Dec 30 23:00:00", 2025}, // in Now's future: the year before
		{"Dec 31 23:59:59", 2025},
		{"Jan  1 00:00:01", 2026}, // rolled over
		{"Dec 31 23:59:58", 2025}, // a late line from the old year
		{"Jan  2 10:00:00", 2026},
	} {
		ev, st := p.Parse([]byte(c.stamp + " mx1 dovecot: " + login))
		if st != Parsed || ev.Time.Year() != c.year {
			t.Errorf("%s: got %v %v, want year %d", c.stamp, st, ev.Time, c.year)
		}
	}
	p = &Parser{Location: time.UTC, Now: func() time.Time { return now }}
	if ev, _ := p.Parse([]byte("Jan  3 10:00:00 mx1 dovecot: " + login)); ev.Time.Year() != 2026 {
		t.Errorf("a stamp less than a day ahead keeps Now's year: got %v", ev.Time)
	}
}

// TestYearNeverInTheFuture: logs joined with cat (or from several hosts)
// can go back in months; a year-less stamp is never placed after Now plus
// a day of clock skew (issue 10).
func TestYearNeverInTheFuture(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	p := &Parser{Location: time.UTC, Now: func() time.Time { return now }}
	for _, c := range []struct {
		stamp string
		year  int
	}{
		{"Oct 12 10:00:00", 2026},
		{"Apr 29 10:00:00", 2026}, // months back: not 2027
		{"May  3 10:00:00", 2026},
		{"Aug  1 10:00:00", 2026},
		{"Nov 20 10:00:00", 2026},
		{"Nov 21 11:00:00", 2026}, // within a day's skew
		{"Dec 25 10:00:00", 2025}, // a month ahead of Now: last year
		{"Jan  3 10:00:00", 2026}, // Dec -> Jan after a line of last year
	} {
		ev, st := p.Parse([]byte(c.stamp + " mx1 dovecot: " + login))
		if st != Parsed || ev.Time.Year() != c.year {
			t.Errorf("%s: got %v %v, want year %d", c.stamp, st, ev.Time, c.year)
		}
		if ev.Time.After(now.Add(24 * time.Hour)) {
			t.Errorf("%s: %v is in the future", c.stamp, ev.Time)
		}
	}
}
