package parse

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The cases below come from an adversarial review of the parser: each one
// failed (forged or lost an event, kept a password, shifted a date) before
// the fix it names.

func TestProxyVerbInjection(t *testing.T) {
	ok := func(user string) Event {
		return Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success,
			User: user, HasUser: true, RemoteIP: "203.0.113.45", Addr: netip.MustParseAddr("203.0.113.45"),
			LocalIP: "198.51.100.25", TLS: TLSYes, Method: "PLAIN", Session: "s"}
	}
	const els = ", method=PLAIN, rip=203.0.113.45, lip=198.51.100.25, TLS, session=<s>"
	runCases(t, parser2025, []parseCase{
		// A proxy failure whose (unchecked, nopassword=y) user says
		// "started proxying" was read as a successful login.
		{"failure turned success", hostDV + "imap-login: proxy(x): started proxying to ): Login failed to 10.0.0.5:143: Authentication failed: user=<x): started proxying to >" + els, Ignored, Event{}},
		{"user differs", hostDV + "imap-login: proxy(bob): started proxying to 10.0.0.5:143: user=<alice>" + els, Ignored, Event{}},
		{"proxy failure", hostDV + "imap-login: proxy(alice): Login failed to 10.0.0.5:143: Authentication failed: user=<alice>" + els, Ignored, Event{}},
		{"started", hostDV + "imap-login: proxy(alice): started proxying to 10.0.0.5:143: user=<alice>" + els, Parsed, ok("alice")},
		{"started 2.3.21", hostDV + "imap-login: proxy(alice,10.0.0.5:143): Started proxying to 10.0.0.5: user=<alice>" + els, Parsed, ok("alice")},
		{"user with paren", hostDV + "imap-login: proxy(a): b): started proxying to 10.0.0.5:143: user=<a): b>" + els, Parsed, ok("a): b")},
	})
}

func TestUserFieldAmbiguity(t *testing.T) {
	fail := Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
		User: "victim", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
		LocalIP: "198.51.100.25", TLS: TLSYes, Method: "X>", Session: "s", Attempts: 5, Reason: "auth failed, 5 attempts in 9 secs"}
	mal := func(why string) Event {
		return Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Reason: why}
	}
	const after = "elements after rip could belong to the user field"
	runCases(t, parser2025, []parseCase{
		// A client ending its brute-force connection with AUTHENTICATE X>
		// turned every such line Malformed: its attempts were not counted.
		{"method ending in >", hostDV + "imap-login: Disconnected (auth failed, 5 attempts in 9 secs): user=<victim>, method=X>, rip=203.0.113.9, lip=198.51.100.25, TLS, session=<s>", Parsed, fail},
		{"user disabled, method ending in >", hostDV + "imap-login: Disconnected (user disabled): user=<a>, method=X>, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure, User: "a", HasUser: true,
				RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"), TLS: TLSNo, Method: "X>", Reason: "user disabled"}},
		{"no verdict, method ending in >", hostDV + "imap-login: Disconnected (client didn't finish SASL auth, waited 0 secs): user=<a>, method=X>, rip=203.0.113.9", Malformed, mal("ambiguous user field")},
		{"success, method ending in >", hostDV + "imap-login: Login: user=<a>, method=X>, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success, User: "a", HasUser: true,
				RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"), TLS: TLSNo, Method: "X>"}},
		// On a line without a rip of its own (a UNIX-socket listener) the
		// user supplied one.
		{"rip from user, method follows", hostDV + "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, rip=6.6.6.6, lip=y>, method=PLAIN, TLS, session=<s>", Malformed, mal(after)},
		{"rip from user, session closes", hostDV + "imap-login: Login: user=<x>, rip=6.6.6.6, session=<y>, method=PLAIN, mpid=1, TLS, session=<s>", Malformed, mal(after)},
		{"rip from user, closing element", hostDV + "imap-login: Login: user=<x>, rip=6.6.6.6, a=b>, mpid=1, TLS", Malformed, mal(after)},
		{"rip from user, repeated lip", hostDV + "imap-login: Login: user=<x>, rip=6.6.6.6, lip=1.1.1.1, lip=198.51.100.25, TLS", Malformed, mal(after)},
		// A user after the rip (custom order): the elements that follow
		// it may be its text, so they set nothing.
		{"user after rip", hostDV + "imap-login: Login: rip=203.0.113.9, user=<x, TLS, session=<evil>>", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success,
				RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"), TLS: TLSUnknown}},
		// Steering attempts: only Dovecot's own parts decide.
		{"result and attempts in user", hostDV + "imap-login: Login: user=<a (auth failed, 99 attempts in 1 secs)>, method=PLAIN, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Success,
				User: "a (auth failed, 99 attempts in 1 secs)", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
				TLS: TLSNo, Method: "PLAIN"}},
		{"success verb in user", hostDV + "imap-login: Disconnected (auth failed, 1 attempts): user=<Login: x: Logged in: y>, method=PLAIN, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "Login: x: Logged in: y", HasUser: true, RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"),
				TLS: TLSNo, Method: "PLAIN", Attempts: 1, Reason: "auth failed, 1 attempts"}},
		{"sanitized 80-byte user", hostDV + "imap-login: Disconnected (auth failed, 1 attempts): user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, TLS, session=<aaaaaaaaaaaa...>, method=PLAIN, rip=203.0.113.9", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindLogin, Service: "imap", Result: Failure,
				User: "x>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, TLS, session=<aaaaaaaaaaaa...", HasUser: true,
				RemoteIP: "203.0.113.9", Addr: netip.MustParseAddr("203.0.113.9"), TLS: TLSNo, Method: "PLAIN", Attempts: 1, Reason: "auth failed, 1 attempts"}},
	})
}

func TestForgedIdents(t *testing.T) {
	pf := func(prog string) Event {
		return Event{Time: t0, Host: "mx1", Program: prog, Kind: KindSASL, Service: "smtp", Result: Aborted,
			RemoteIP: "192.0.2.7", Addr: netip.MustParseAddr("192.0.2.7"), Method: "PLAIN", Session: "smtpd[1]", Reason: "authentication aborted"}
	}
	const sasl = "[1]: warning: unknown[192.0.2.7]: SASL PLAIN authentication aborted"
	runCases(t, parser2025, []parseCase{
		{"dovecotx", "Nov 22 10:00:01 mx1 dovecotx: " + login, Ignored, Event{}},
		{"dovecot-evil", "Nov 22 10:00:01 mx1 dovecot-evil[3]: " + login, Ignored, Event{}},
		{"dovecot-auth", "Nov 22 10:00:01 mx1 dovecot-auth: " + login, Parsed, with(okLogin, func(e *Event) { e.Program = "dovecot-auth" })},
		{"postfixevil", "Nov 22 10:00:01 mx1 postfixevil/smtpd" + sasl, Ignored, Event{}},
		{"smtpd-fake", "Nov 22 10:00:01 mx1 postfix/smtpd-fake" + sasl, Ignored, Event{}},
		{"empty service", "Nov 22 10:00:01 mx1 postfix//smtpd" + sasl, Ignored, Event{}},
		{"empty instance", "Nov 22 10:00:01 mx1 postfix-/smtpd" + sasl, Ignored, Event{}},
		{"bare smtpd", "Nov 22 10:00:01 mx1 smtpd" + sasl, Ignored, Event{}},
		{"instance", "Nov 22 10:00:01 mx1 postfix-out.example/smtpd" + sasl, Parsed, pf("postfix-out.example/smtpd")},
		{"service", "Nov 22 10:00:01 mx1 postfix/submission/smtpd" + sasl, Parsed, pf("postfix/submission/smtpd")},
		{"instance and service", "Nov 22 10:00:01 mx1 postfix-b/smtps/smtpd" + sasl, Parsed, pf("postfix-b/smtps/smtpd")},
	})
}

func TestAuthMarkerInjection(t *testing.T) {
	mal := Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Reason: "ambiguous auth line"}
	runCases(t, parser2025, []parseCase{
		// The user "x,6.6.6.6): Password mismatch" on a line whose own
		// message is no failure forged a failure from 6.6.6.6.
		{"marker in user", hostDV + "auth: sql(x,6.6.6.6): Password mismatch,192.0.2.9): lookup failed", Malformed, mal},
		{"marker in user 2.4", hostDV + "auth(x,6.6.6.6,sasl:plain)<s>: sql: unknown user,192.0.2.9,sasl:plain)<t>: sql: lookup failed", Malformed, mal},
		{"password mark in user", hostDV + "auth: sql(x,6.6.6.6): unknown user (given password: ,192.0.2.9): some other message", Malformed, mal},
		{"password then next passdb", hostDV + "auth: sql(a,192.0.2.9): Password mismatch (given password: p): q) - trying the next passdb", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Result: Failure, User: "a", HasUser: true,
				RemoteIP: "192.0.2.9", Addr: netip.MustParseAddr("192.0.2.9"), Reason: "Password mismatch"}},
		{"username chars raw name", hostDV + "auth: login(?,192.0.2.4,<s>): Username character disallowed by auth_username_chars: 0x2c (username: a,b): c)", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Result: Failure, User: "a,b): c", HasUser: true,
				RemoteIP: "192.0.2.4", Addr: netip.MustParseAddr("192.0.2.4"), Session: "s",
				Reason: "Username character disallowed by auth_username_chars: 0x2c"}},
		{"pam text", hostDV + "auth(default): pam(a,200.76.17.206): pam_authenticate() failed: User not known to the underlying authentication module: 2 Time(s)", Parsed,
			Event{Time: t0, Host: "mx1", Program: "dovecot", Kind: KindAuth, Result: Failure, User: "a", HasUser: true,
				RemoteIP: "200.76.17.206", Addr: netip.MustParseAddr("200.76.17.206"),
				Reason: "pam_authenticate() failed: User not known to the underlying authentication module: 2 Time(s)"}},
	})
}

func TestJournaldTrust(t *testing.T) {
	us := `"__REALTIME_TIMESTAMP":"1763805601000000"`
	want := with(okLogin, func(e *Event) { e.Host = "" })
	rec := func(unit, ident string) string {
		u := ""
		if unit != "" {
			u = `"_SYSTEMD_UNIT":"` + unit + `",`
		}
		return `{` + u + us + `,"SYSLOG_IDENTIFIER":"` + ident + `","MESSAGE":"` + login + `"}`
	}
	pfMsg := "warning: unknown[192.0.2.7]: SASL PLAIN authentication aborted"
	pf := Event{Time: t0, Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp", Result: Aborted,
		RemoteIP: "192.0.2.7", Addr: netip.MustParseAddr("192.0.2.7"), Method: "PLAIN", Reason: "authentication aborted"}
	runCases(t, parser2025, []parseCase{
		{"dovecot unit", rec("dovecot.service", "dovecot"), Parsed, want},
		{"nixos unit", rec("dovecot2.service", "dovecot"), Parsed, want},
		{"no unit", rec("", "dovecot"), Parsed, want},
		// openlog("dovecot") in a web application.
		{"web app", rec("php8.2-fpm.service", "dovecot"), Ignored, Event{}},
		{"user session", rec("session-3.scope", "dovecot"), Ignored, Event{}},
		{"postfix unit", `{"_SYSTEMD_UNIT":"postfix@-.service",` + us + `,"SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":"` + pfMsg + `"}`, Parsed, pf},
		{"postfix from cron", `{"_SYSTEMD_UNIT":"cron.service",` + us + `,"SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":"` + pfMsg + `"}`, Ignored, Event{}},
		// Dovecot never logs a newline inside a login record.
		{"newline", `{` + us + `,"SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"imap-login: Login: user=<x>\n, rip=6.6.6.6"}`, Malformed,
			Event{Time: t0, Program: "dovecot", Kind: KindLogin, Service: "imap", Reason: "message spans lines"}},
		{"newline in bytes", `{` + us + `,"SYSLOG_IDENTIFIER":"dovecot","MESSAGE":[105,109,97,112,45,108,111,103,105,110,58,32,76,111,103,105,110,58,32,117,115,101,114,61,60,120,62,44,32,114,105,112,61,54,46,54,46,54,46,54,10]}`, Malformed,
			Event{Time: t0, Program: "dovecot", Kind: KindLogin, Service: "imap", Reason: "message spans lines"}},
	})
}

func TestPasswordsInReasons(t *testing.T) {
	const secret = "hunter2x"
	lines := []string{
		"Nov 22 10:00:01 mx1 postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: bad (given password: " + secret + ")",
		"Nov 22 10:00:01 mx1 postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: bad (given password: " + secret + "), sasl_username=a",
		hostDV + "imap-login: Disconnected (auth failed (given password: " + secret + "), 1 attempts): user=<a>, rip=192.0.2.1",
		hostDV + "imap-login: Disconnected: read failed (given password: " + secret + "): user=<a>, rip=192.0.2.1",
		hostDV + "imap-login: Maximum number of connections from user+IP exceeded (SHA1 of given password: " + secret + "): user=<a>, rip=192.0.2.1",
		hostDV + "auth: sql(a,192.0.2.1): Password mismatch (given password: " + secret + ")",
		hostDV + "auth: sql(a,192.0.2.1): Password mismatch (given password: " + secret + "x",
	}
	for _, l := range lines {
		t.Run(l[len(l)-40:], func(t *testing.T) {
			ev, st := parser2025().Parse([]byte(l))
			if st == Ignored {
				t.Fatalf("Parse(%q) ignored", l)
			}
			for _, f := range []string{ev.User, ev.Reason, ev.Method, ev.Session, ev.RemoteIP} {
				if strings.Contains(f, secret) || strings.Contains(f, "given password") {
					t.Errorf("Parse(%q): field %q keeps the password", l, f)
				}
			}
		})
	}
}

func TestCalendar(t *testing.T) {
	at := func(y int, m time.Month, d int) Event {
		return with(okLogin, func(e *Event) { e.Time = time.Date(y, m, d, 10, 0, 1, 0, time.UTC) })
	}
	runCases(t, parser2025, []parseCase{
		// time.Date turned these into Mar 1 and May 1.
		{"Feb 29, year set to a common year", "Feb 29 10:00:01 mx1 dovecot: " + login, Parsed, at(2024, 2, 29)},
		{"Apr 31", "Apr 31 10:00:01 mx1 dovecot: " + login, Ignored, Event{}},
		{"Feb 30", "Feb 30 10:00:01 mx1 dovecot: " + login, Ignored, Event{}},
		{"iso Feb 29 common year", "2025-02-29T10:00:01Z mx1 dovecot: " + login, Ignored, Event{}},
		{"iso Feb 29 leap year", "2024-02-29T10:00:01Z mx1 dovecot: " + login, Parsed, at(2024, 2, 29)},
		{"iso Feb 29 2100", "2100-02-29T10:00:01Z mx1 dovecot: " + login, Ignored, Event{}},
		{"iso Feb 29 2000", "2000-02-29T10:00:01Z mx1 dovecot: " + login, Parsed, at(2000, 2, 29)},
		{"iso Sep 31", "2025-09-31T10:00:01Z mx1 dovecot: " + login, Ignored, Event{}},
		{"zone -00:30", "2025-11-22T09:30:01-00:30 mx1 dovecot: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = t0.In(time.FixedZone("", -1800)) })},
		{"zone +01", "2025-11-22T11:00:01+01 mx1 dovecot: " + login, Parsed,
			with(okLogin, func(e *Event) { e.Time = t0.In(time.FixedZone("", 3600)) })},
		{"zone bad minutes", "2025-11-22T11:00:01+01:7 mx1 dovecot: " + login, Ignored, Event{}},
		{"zone 24h", "2025-11-22T11:00:01+24:00 mx1 dovecot: " + login, Ignored, Event{}},
		{"journald µs", `{"__REALTIME_TIMESTAMP":"1763805601999999","SYSLOG_IDENTIFIER":"dovecot","_HOSTNAME":"mx1","MESSAGE":"` + login + `"}`, Parsed,
			with(okLogin, func(e *Event) { e.Time = t0.Add(999999 * time.Microsecond) })},
		{"tai64n", "@40000000692189ab0001e240 imap-login: Login: " + els23, Parsed,
			with(okLogin, func(e *Event) { e.Host, e.Program, e.Time = "", "", t0.Add(123456*time.Nanosecond) })},
	})
	// Year inference: a first stamp of Feb 29 read in a common year is
	// from the last leap year, and the stamps after it too.
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p := &Parser{Location: time.UTC, Now: func() time.Time { return now }}
	for _, c := range []struct {
		stamp string
		want  time.Time
	}{
		{"Feb 29 10:00:01", time.Date(2024, 2, 29, 10, 0, 1, 0, time.UTC)},
		{"Mar  1 10:00:01", time.Date(2024, 3, 1, 10, 0, 1, 0, time.UTC)},
		{"Jul  1 10:00:01", time.Date(2024, 7, 1, 10, 0, 1, 0, time.UTC)},
		{"Dec 31 23:59:59", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"Jan  1 00:00:00", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Feb 29 00:00:00", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, // wrong input: kept in a leap year
	} {
		ev, st := p.Parse([]byte(c.stamp + " mx1 dovecot: " + login))
		if st != Parsed || !ev.Time.Equal(c.want) {
			t.Errorf("%s: got %v %v, want %v", c.stamp, st, ev.Time, c.want)
		}
	}
}

func TestPostfixClientName(t *testing.T) {
	mal := Event{Time: t0, Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp",
		Reason: "client name and address cannot be told apart"}
	pf := "Nov 22 10:00:01 mx1 postfix/smtpd[1]: "
	runCases(t, parser2025, []parseCase{
		// A PTR name "evil[6.6.6.6].example" (Postfix would log "unknown")
		// must not be read as a namaddr.
		{"ptr in failure", pf + "warning: evil[6.6.6.6].example[203.0.113.5]: SASL LOGIN authentication failed: x", Malformed, mal},
		{"ptr in success", pf + "ABC123: client=evil[6.6.6.6].example[203.0.113.5], sasl_method=PLAIN, sasl_username=a", Malformed, mal},
		{"user with brackets", pf + "warning: unknown[203.0.113.5]:25: SASL LOGIN authentication failed: (reason unavailable), sasl_username=a]: SASL [6.6.6.6]", Parsed,
			Event{Time: t0, Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp", Result: Failure,
				User: "a]: SASL [6.6.6.6]", HasUser: true, RemoteIP: "203.0.113.5", Addr: netip.MustParseAddr("203.0.113.5"),
				Method: "LOGIN", Session: "smtpd[1]", Reason: "(reason unavailable)"}},
		{"sender injection", pf + "ABC123: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=a, sasl_sender=x, sasl_username=b", Parsed,
			Event{Time: t0, Host: "mx1", Program: "postfix/smtpd", Kind: KindSASL, Service: "smtp", Result: Success,
				User: "a", HasUser: true, RemoteIP: "203.0.113.5", Addr: netip.MustParseAddr("203.0.113.5"),
				Method: "PLAIN", Session: "smtpd[1]"}},
	})
}
