package parse

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// lastRip returns the value of the last "rip=" element of line, as a
// reference for the parser's right-to-left element parsing.
func lastRip(line []byte) ([]byte, bool) {
	i := lastElem(line, "rip=")
	if i < 0 {
		return nil, false
	}
	v := line[i+len("rip="):]
	if j := bytes.Index(v, []byte(", ")); j >= 0 {
		v = v[:j]
	}
	return v, true
}

// secrets returns the texts that follow "given password: " in line, up to
// the next ')' or the end of the line.
func secrets(line []byte) [][]byte {
	var out [][]byte
	for rest := line; ; {
		i := bytes.Index(rest, []byte("given password: "))
		if i < 0 {
			return out
		}
		rest = rest[i+len("given password: "):]
		s := rest
		if j := bytes.IndexByte(s, ')'); j >= 0 {
			s = s[:j]
		}
		out = append(out, s)
	}
}

func FuzzParse(f *testing.F) {
	logs, _ := filepath.Glob("testdata/*.log")
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*"))
	for _, path := range append(logs, corpus...) {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			f.Add(l)
		}
	}
	// Lines of a server with orig_user after rip, for the declared
	// format (fuzzDeclared).
	f.Add([]byte("Nov 02 10:00:14 mx dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, mpid=4242, TLS, session=<abcDEF12>, orig_user=<Alice>"))
	f.Add([]byte("Nov 02 10:00:14 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=6.6.6.6, session=<S0>, orig_user=<x>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, session=<S1>, orig_user=<x>, method=PLAIN, rip=6.6.6.6, session=<S0>, orig_user=<x>"))
	declared, err := ParseLoginFormat(origUserFormat)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		fuzzDeclared(t, declared, line)
		orig := bytes.Clone(line)
		p := Parser{Year: 2025, Location: time.UTC}
		ev, st := p.Parse(line)
		if !bytes.Equal(line, orig) {
			t.Fatalf("Parse changed its input")
		}
		if p := []byte(ev.Program); len(p) > 0 && !dovecotIdent(p) && !smtpdIdent(p) && ev.Program != "auth" && ev.Program != "log" {
			t.Fatalf("event from untrusted program %q: %+v", ev.Program, ev)
		}
		if st != Ignored && !bytes.HasPrefix(line, []byte("{")) && !slowMayMatter(line) {
			// Markers' contract: a reader may pass over such lines.
			t.Fatalf("%v for a line with none of Markers(): %q", st, line)
		}
		switch st {
		case Ignored:
			if ev != (Event{}) {
				t.Fatalf("Ignored with an event: %+v", ev)
			}
			return
		case Malformed:
			if ev.Reason == "" || ev.User != "" || ev.RemoteIP != "" || ev.HasUser || ev.Result != 0 {
				t.Fatalf("Malformed event carries decoded fields: %+v", ev)
			}
			return
		case Parsed:
		default:
			t.Fatalf("bad status %v", st)
		}
		if ev.Kind == 0 || (ev.Result == 0) != (ev.Kind == KindClient) {
			t.Fatalf("Parsed event without kind or result: %+v", ev)
		}
		if ev.Kind == KindClient {
			if ev.Client == "" || len(ev.Client) > MaxClient || ev.HasUser {
				t.Fatalf("client event with bad name or a user: %+v", ev)
			}
			for _, c := range []byte(ev.Client) {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("client name %q not sanitized", ev.Client)
				}
			}
		} else if ev.Client != "" {
			t.Fatalf("%s event with a client name: %+v", ev.Kind, ev)
		}
		line = bytes.TrimRight(line, "\r\n")    // as Parse does
		json := len(line) > 0 && line[0] == '{' // fields are JSON-decoded, not substrings
		if !ev.Addr.IsValid() {
			t.Fatalf("event without a valid Addr from %q: %+v", line, ev)
		}
		if a, err := netip.ParseAddr(ev.RemoteIP); err != nil || a != ev.Addr {
			t.Fatalf("RemoteIP %q does not parse to Addr %v", ev.RemoteIP, ev.Addr)
		}
		if !json {
			switch ev.Kind {
			case KindLogin, KindClient:
				if r, ok := lastRip(line); !ok || string(r) != ev.RemoteIP {
					t.Fatalf("RemoteIP %q is not the last rip= element %q of %q", ev.RemoteIP, r, line)
				}
			case KindSASL:
				if !bytes.Contains(line, []byte("["+ev.RemoteIP+"]")) {
					t.Fatalf("RemoteIP %q not bracketed in %q", ev.RemoteIP, line)
				}
			default:
				if !bytes.Contains(line, []byte(ev.RemoteIP)) {
					t.Fatalf("RemoteIP %q not in %q", ev.RemoteIP, line)
				}
			}
			if ev.HasUser && !bytes.Contains(line, []byte(ev.User)) {
				t.Fatalf("User %q not in %q", ev.User, line)
			}
		}
		// Logged passwords: never in a Reason, and nothing after "given
		// password: " in any field of an auth-process event.
		for _, f := range []string{ev.Reason, ev.User, ev.Method, ev.Session} {
			if ev.Kind != KindAuth && f != ev.Reason {
				continue
			}
			if bytes.Contains([]byte(f), []byte("given password")) {
				t.Fatalf("field %q keeps a password mark from %q", f, line)
			}
			for _, s := range secrets(line) {
				if len(s) >= 4 && bytes.Count(line, s) == 1 && bytes.Contains([]byte(f), s) {
					t.Fatalf("field %q keeps the password %q from %q", f, s, line)
				}
			}
		}
	})
}

// fuzzDeclared checks Parse with a declared login_log_format_elements:
// no panic, the input unchanged, nothing decoded from a malformed line,
// and a decoded login's rip is one of the line's rip= elements and its
// user is in the line.
func fuzzDeclared(t *testing.T, lf *LoginFormat, line []byte) {
	orig := bytes.Clone(line)
	p := Parser{Year: 2025, Location: time.UTC, LoginFormat: lf}
	ev, st := p.Parse(line)
	if !bytes.Equal(line, orig) {
		t.Fatalf("Parse (declared format) changed its input")
	}
	switch st {
	case Malformed:
		if ev.Reason == "" || ev.User != "" || ev.RemoteIP != "" || ev.HasUser || ev.Result != 0 {
			t.Fatalf("declared format: Malformed event carries decoded fields: %+v", ev)
		}
		return
	case Parsed:
	default:
		return
	}
	if ev.Kind != KindLogin || line[0] == '{' {
		return
	}
	if a, err := netip.ParseAddr(ev.RemoteIP); err != nil || a != ev.Addr {
		t.Fatalf("declared format: RemoteIP %q does not parse to Addr %v", ev.RemoteIP, ev.Addr)
	}
	if !bytes.Contains(line, []byte(", rip="+ev.RemoteIP)) && !bytes.Contains(line, []byte(": rip="+ev.RemoteIP)) {
		t.Fatalf("declared format: RemoteIP %q is not a rip= element of %q", ev.RemoteIP, line)
	}
	if ev.HasUser && !bytes.Contains(line, []byte("user=<"+ev.User+">")) {
		t.Fatalf("declared format: User %q not in %q", ev.User, line)
	}
}
