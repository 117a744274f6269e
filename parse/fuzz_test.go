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
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		p := Parser{Year: 2025, Location: time.UTC}
		ev, st := p.Parse(line)
		if !bytes.Equal(line, orig) {
			t.Fatalf("Parse changed its input")
		}
		if p := []byte(ev.Program); len(p) > 0 && !dovecotIdent(p) && !smtpdIdent(p) && ev.Program != "auth" && ev.Program != "log" {
			t.Fatalf("event from untrusted program %q: %+v", ev.Program, ev)
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
		if ev.Kind == 0 || ev.Result == 0 {
			t.Fatalf("Parsed event without kind or result: %+v", ev)
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
			case KindLogin:
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
