package parse

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corpusDir holds real public sample logs next to the repository (shared/
// in the project workspace); the test is skipped where it is absent.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// deliberate says why a line that fail2ban matches is, on purpose, not an
// event here, or "".
func deliberate(line []byte) string {
	if bytes.Contains(line, []byte("postfix")) && !bytes.Contains(line, []byte("SASL ")) && !bytes.Contains(line, []byte("sasl_method=")) {
		// fail2ban's postfix filter also bans on SMTP rejects, pipelining,
		// postscreen and rate limits: not logins, out of mailaudit's scope.
		return "not an authentication line"
	}
	return ""
}

// TestCorpus runs the real samples: fail2ban's "# failJSON:" annotations
// say which IP the next line accuses; every such line must yield an event
// with that address (except the deliberate differences above), and no line
// fail2ban never matches may become a Failure. Harness comments must be
// Ignored, and no line may be Malformed.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*"))
	if len(files) == 0 {
		t.Skip("no corpus at", corpusDir)
	}
	var checked int
	for _, path := range files {
		if strings.HasSuffix(path, ".md") {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			lines := readLines(t, path)
			type expect struct {
				Match bool   `json:"match"`
				Host  string `json:"host"`
			}
			// A line fail2ban matches in any mode is not held against us
			// where another mode's annotation says "match": false.
			matchedSomewhere := map[string]bool{}
			var pending *expect
			for _, l := range lines {
				if c, ok := bytes.CutPrefix(bytes.TrimSpace(l), []byte("#")); ok {
					if j, ok := bytes.CutPrefix(bytes.TrimSpace(c), []byte("failJSON:")); ok {
						var e expect
						if json.Unmarshal(j, &e) == nil {
							pending = &e
						}
					}
					continue
				}
				if pending != nil && pending.Match {
					matchedSomewhere[string(l)] = true
				}
				pending = nil
			}
			p := Parser{Year: 2005, Location: time.UTC}
			pending = nil
			for n, l := range lines {
				ev, st := p.Parse(l)
				trim := bytes.TrimSpace(l)
				if len(trim) > 0 && (trim[0] == '#' || trim[0] == '[') && st != Ignored {
					t.Errorf("line %d: harness comment %q not ignored: %v", n+1, l, st)
				}
				// Malformed is allowed only where fail2ban expects no match:
				// "imap-login: Disconnected: a: a: … test no match" has no
				// element list (it could be the head of a split line).
				if st == Malformed && (pending == nil || pending.Match) {
					t.Errorf("line %d: %q malformed: %s", n+1, l, ev.Reason)
				}
				if c, ok := bytes.CutPrefix(trim, []byte("#")); ok {
					if j, ok := bytes.CutPrefix(bytes.TrimSpace(c), []byte("failJSON:")); ok {
						var e expect
						if json.Unmarshal(j, &e) == nil {
							pending = &e
						}
					}
					continue
				}
				e := pending
				pending = nil
				if e == nil || len(trim) == 0 {
					continue
				}
				switch {
				case e.Match && e.Host != "":
					if why := deliberate(l); why != "" {
						continue
					}
					checked++
					if st != Parsed || ev.RemoteIP != e.Host {
						t.Errorf("line %d: %q\n got %v %q, want an event from %s", n+1, l, st, ev.RemoteIP, e.Host)
					}
				case !e.Match && !matchedSomewhere[string(l)]:
					if st == Parsed && ev.Result == Failure {
						t.Errorf("line %d: %q: fail2ban never matches it, but it is a failure here", n+1, l)
					}
				}
			}
		})
	}
	if checked < 50 {
		t.Errorf("only %d annotated lines checked", checked)
	}
}

// TestCorpusWazuh checks the Dovecot lines of Wazuh's INI test file.
func TestCorpusWazuh(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "wazuh__ruleset_testing_tests_dovecot.ini"))
	if err != nil {
		t.Skip(err)
	}
	want := map[string]string{ // line prefix -> rip (or "" for Ignored)
		"Dec 19 06:21:06": "109.201.200.201",
		"Jan 11 03:45:09": "1.2.3.4",
		"Jan 11 03:42:09": "1.2.3.4",
		"Jun 17 10:15:24": "",
		"Jun 23 15:04:05": "1.2.3.4",
		"Jan 07 14:46:28": "", // userdb lookup, Warn level
		"May 31 09:43:57": "::ffff:1.2.3.4",
		"Mar 13 15:25:07": "::ffff:1.2.3.4",
		"Jul  4 17:30:51": "1.2.3.4",
		"Jan 30 09:37:55": "::ffff:1.2.3.4",
		"Jun 23 15:04:06": "",
	}
	p := Parser{Year: 2005, Location: time.UTC}
	for _, l := range bytes.Split(data, []byte("\n")) {
		_, v, ok := bytes.Cut(l, []byte(" = "))
		if !ok || !bytes.HasPrefix(l, []byte("log ")) {
			continue
		}
		ev, st := p.Parse(v)
		rip, known := want[string(v[:min(15, len(v))])]
		if !known {
			t.Errorf("unexpected line %q", v)
			continue
		}
		if (rip == "") != (st == Ignored) || ev.RemoteIP != rip {
			t.Errorf("%q: got %v %q, want %q", v, st, ev.RemoteIP, rip)
		}
	}
}
