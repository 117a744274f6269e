package parse

import (
	"strings"
	"testing"
	"time"
)

const origUserFormat = "user=<%{user}> method=%{mechanism} rip=%{rip} lip=%{lip} mpid=%{mpid} %{secured} session=<%{session}> orig_user=<%{orig_user}>"

func TestParseLoginFormat(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{in: "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>"},
		{in: origUserFormat},
		{in: "user=<%{user}> method=%{mechanism} rip=%{remote_ip} lip=%{local_ip} mpid=%{mail_pid} %{secured} session=<%{session}>"},
		{in: "user=%Lu rip=%r"},
		{in: "", err: "empty"},
		{in: "user=<%u> lip=%l", err: "no rip element"},
		{in: "rip=%r real=%{rip}", err: "more than one rip"},
		{in: "user=<%{user> rip=%r", err: "unterminated"},
		{in: "user=% rip=%r", err: "without a variable"},
	} {
		lf, err := ParseLoginFormat(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
		case err == nil && lf.String() != tc.in:
			t.Errorf("%q: String() = %q", tc.in, lf.String())
		}
	}
}

// TestDeclaredLoginFormat decodes login lines of a server whose
// login_log_format_elements puts a <…>-valued element after rip, with and
// without that format declared.
func TestDeclaredLoginFormat(t *testing.T) {
	const pre = "Nov 02 10:00:14 mx dovecot: imap-login: "
	type want struct {
		status  Status
		result  Result
		user    string
		ip      string
		lip     string
		method  string
		session string
		tls     TLS
	}
	for _, tc := range []struct {
		name   string
		format string // "" is the default decoding
		line   string
		want   want
	}{
		{
			name: "orig_user undeclared is malformed",
			line: "Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<abcDEF12>, orig_user=<Alice>",
			want: want{status: Malformed},
		},
		{
			name:   "orig_user declared: success",
			format: origUserFormat,
			line:   "Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<abcDEF12>, orig_user=<Alice>",
			want:   want{status: Parsed, result: Success, user: "alice", ip: "203.0.113.5", lip: "192.0.2.1", method: "PLAIN", session: "abcDEF12", tls: TLSYes},
		},
		{
			name:   "declared: failure, no mpid, plaintext",
			format: origUserFormat,
			line:   "Disconnected (auth failed, 3 attempts in 12 secs): user=<bob>, method=LOGIN, rip=198.51.100.9, lip=192.0.2.1, session=<Zz9+/x>, orig_user=<bob@EXAMPLE.org>",
			want:   want{status: Parsed, result: Failure, user: "bob", ip: "198.51.100.9", lip: "192.0.2.1", method: "LOGIN", session: "Zz9+/x", tls: TLSNo},
		},
		{
			name:   "declared: no auth attempt, empty user, no orig_user",
			format: origUserFormat,
			line:   "Disconnected: Inactivity (no auth attempts in 180 secs): user=<>, rip=198.51.100.9, lip=192.0.2.1, TLS handshaking, session=<Q1>",
			want:   want{status: Parsed, result: Aborted, ip: "198.51.100.9", lip: "192.0.2.1", session: "Q1", tls: TLSNo},
		},
		{
			name:   "declared: user with spaces and a fake rip without separators",
			format: origUserFormat,
			line:   "Disconnected (auth failed, 1 attempts in 2 secs): user=<orig_user=<x> rip=6.6.6.6>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, TLS, session=<S1>, orig_user=<orig_user=<x> rip=6.6.6.6>",
			want:   want{status: Parsed, result: Failure, user: "orig_user=<x> rip=6.6.6.6", ip: "203.0.113.7", lip: "192.0.2.1", method: "PLAIN", session: "S1", tls: TLSYes},
		},
		{
			// The user (and so orig_user) carries a whole fake element
			// list: the line reads with either rip, so it is rejected,
			// never decoded with 6.6.6.6.
			name:   "declared: injected elements in the user are ambiguous",
			format: origUserFormat,
			line:   "Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=6.6.6.6, lip=192.0.2.1, session=<S0>, orig_user=<x>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, session=<S1>, orig_user=<x>, method=PLAIN, rip=6.6.6.6, lip=192.0.2.1, session=<S0>, orig_user=<x>",
			want:   want{status: Malformed},
		},
		{
			name:   "declared: injection in orig_user alone",
			format: origUserFormat,
			line:   "Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, session=<S1>, orig_user=<y>, rip=6.6.6.6, lip=192.0.2.1, session=<S0>, orig_user=<z>",
			want:   want{status: Malformed},
		},
		{
			name:   "declared: a default-format line does not match",
			format: "user=<%u> rip=%r lip=%l orig_user=<%{orig_user}> %{ssl_security}",
			line:   "Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<abcDEF12>",
			want:   want{status: Malformed},
		},
		{
			name:   "declared: rip not an address",
			format: origUserFormat,
			line:   "Login: user=<alice>, method=PLAIN, rip=203.0.113.500, lip=192.0.2.1, mpid=1, session=<a>, orig_user=<a>",
			want:   want{status: Malformed},
		},
		{
			name:   "declared: the default format still parses",
			format: "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>",
			line:   "Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<abcDEF12>",
			want:   want{status: Parsed, result: Success, user: "alice", ip: "203.0.113.5", lip: "192.0.2.1", method: "PLAIN", session: "abcDEF12", tls: TLSYes},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Parser{Year: 2026, Location: time.UTC}
			if tc.format != "" {
				lf, err := ParseLoginFormat(tc.format)
				if err != nil {
					t.Fatal(err)
				}
				p.LoginFormat = lf
			}
			ev, st := p.Parse([]byte(pre + tc.line))
			if st != tc.want.status {
				t.Fatalf("status %v (%s), want %v", st, ev.Reason, tc.want.status)
			}
			if st != Parsed {
				if ev.RemoteIP != "" || ev.User != "" {
					t.Errorf("malformed event carries %q/%q", ev.User, ev.RemoteIP)
				}
				return
			}
			got := want{status: st, result: ev.Result, user: ev.User, ip: ev.RemoteIP, lip: ev.LocalIP,
				method: ev.Method, session: ev.Session, tls: ev.TLS}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDeclaredLoginFormatBounded: a user name full of separators cannot
// make decoding slow; such a line is decoded or rejected.
func TestDeclaredLoginFormatBounded(t *testing.T) {
	lf, err := ParseLoginFormat("user=<%u> a=<%{x}> b=<%{y}> rip=%r c=<%{z}> orig_user=<%{orig_user}>")
	if err != nil {
		t.Fatal(err)
	}
	p := Parser{Year: 2026, Location: time.UTC, LoginFormat: lf}
	junk := strings.Repeat("q>, a=<q>, b=<q>, ", 300)
	line := "Nov 02 10:00:14 mx dovecot: imap-login: Login: user=<" + junk + ">, rip=203.0.113.5, c=<" + junk + ">, orig_user=<" + junk + ">"
	ev, st := p.Parse([]byte(line))
	if st != Malformed {
		t.Errorf("status %v, want malformed: %+v", st, ev)
	}
}
