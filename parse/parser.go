package parse

import (
	"bytes"
	"time"
)

// A Parser decodes log lines into Events. The zero Parser is ready to use:
// it infers the year of year-less timestamps from the current time, reads
// zone-less timestamps in time.Local, and accepts Dovecot's own log files
// (lines whose timestamp is followed directly by a Dovecot process such as
// "imap-login:") as well as syslog and journald input.
//
// Events from Dovecot's own files have an empty Host and Program: those
// files frame neither.
//
// A Parser keeps year-inference state between lines, so one Parser should
// read one time-ordered stream. It is not safe for concurrent use.
type Parser struct {
	// Year is the year of year-less timestamps (RFC 3164 syslog, Dovecot's
	// and Postfix's own files). Zero means infer it: the first such stamp
	// takes the year of Now, or the year before if the stamp would lie more
	// than a day after Now; later stamps move to the next year when the
	// month drops by six or more (Dec -> Jan). A "Feb 29" stamp is placed
	// in the last leap year up to the year so found (or set).
	Year int
	// Location is the zone of zone-less timestamps; nil means time.Local.
	Location *time.Location
	// Now returns the current time for year inference; nil means time.Now.
	Now func() time.Time
	// DovecotFile says the input is known to come from Dovecot itself
	// (its log_path file, or `journalctl -o cat -u dovecot`): lines with no
	// timestamp at all that start with a Dovecot process ("imap-login: …")
	// are then trusted too.
	//
	// Lines with a timestamp but no syslog host and ident ("Nov 02 10:00:14
	// imap-login: Info: Login: …", "@4000… imap-login: …") are accepted
	// either way: syslog always writes a host and an ident, so a `logger`
	// or a web application cannot produce them in a syslog file. Syslog
	// lines are trusted only from the idents dovecot and dovecot-auth, auth
	// (PAM lines only) and postfix[-instance][/service…]/smtpd, whatever
	// DovecotFile says.
	DovecotFile bool
	// LoginFormat, if set, is the server's login_log_format_elements:
	// Dovecot login lines are decoded against exactly these elements
	// (see LoginFormat). Nil means Dovecot's default elements in any
	// version, decoded from the right.
	LoginFormat *LoginFormat

	curYear   int // year inference state; 0 until the first year-less stamp
	lastMonth int
	zone      *time.Location // last fixed zone, see fixedZone
	zoneOff   int
	host      string // last Host and Program strings, reused while unchanged
	program   string
	jbuf      []byte // scratch for journald string decoding
	lip       string // last lip= value of a login line, reused while unchanged
	lipOK     bool   // lip is an IP address
}

// frame is a line with its framing decoded: everything before the
// program's message.
type frame struct {
	st      stamp
	host    []byte
	program []byte // syslog ident without pid; empty for Dovecot's own files
	pid     []byte
	msg     []byte
	// own is set for lines with no syslog ident: Dovecot's own log file
	// (and journald's cat output), where msg starts with the process.
	own     bool
	lineLen int
}

// Parse decodes one line, with or without its trailing newline. It returns
// Ignored for lines that carry no login or authentication (the common case),
// Parsed with the Event, or Malformed with an Event holding what is known
// (time, host, program, kind, service) and Reason saying what is wrong.
// Parse does not retain line.
func (p *Parser) Parse(line []byte) (Event, Status) {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return Event{}, Ignored
	}
	if line[0] == '{' {
		return p.parseJournal(line)
	}
	if !mayMatter(line) {
		return Event{}, Ignored
	}
	var f frame
	if !p.frame(line, &f) {
		return Event{}, Ignored
	}
	return p.dispatch(&f)
}

// A marker is a byte string every line Parse can turn into an event
// contains one of, with the index of its rarest byte in mail logs: the
// prefilter searches for that byte and compares around it, which skips
// most of a line at memchr speed (searching for a marker's first byte
// stops at every "a" and "s" of a line).
type marker struct {
	s      string
	anchor int
}

// markers are the prefilter's byte strings: login lines have "-login: ",
// auth-process and PAM lines "auth", Postfix SASL failures "SASL " and
// successes "sasl_method=". The anchors are the rarest bytes of each as
// counted on a realistic generated day: "-", "h", "L", "_".
var markers = [...]marker{
	{"-login: ", 0},
	{"auth", 3},
	{"SASL ", 3},
	{"sasl_method=", 4},
}

// A Marker is one of the byte strings of the prefilter (see Markers),
// with the index of its rarest byte in mail logs.
type Marker struct {
	Text   string
	Anchor int
}

// Markers returns the prefilter's byte strings: Parse turns a line that
// does not start with "{" (a journald JSON record, always decoded) into
// an event or a malformed record only if it contains one of them, so a
// reader may pass over every other line unparsed. The Anchor of each is
// its rarest byte, counted on a realistic generated day: a search for
// that byte skips most of the input at memchr speed.
func Markers() []Marker {
	ms := make([]Marker, len(markers))
	for i, m := range markers {
		ms[i] = Marker{m.s, m.anchor}
	}
	return ms
}

// mayMatter is the hot-path prefilter: it reports whether line contains
// one of the markers.
func mayMatter(line []byte) bool {
	for i := range markers {
		if containsAt(line, markers[i].s, markers[i].anchor) {
			return true
		}
	}
	return false
}

// containsAt reports whether b contains s, searching for s[anchor] and
// comparing the rest of s around each occurrence.
func containsAt(b []byte, s string, anchor int) bool {
	c := s[anchor]
	tail := len(s) - anchor // bytes of s from the anchor on
	for i := anchor; i+tail <= len(b); {
		j := bytes.IndexByte(b[i:len(b)-tail+1], c)
		if j < 0 {
			return false
		}
		i += j
		if string(b[i-anchor:i-anchor+len(s)]) == s {
			return true
		}
		i++
	}
	return false
}

// dispatch hands the message to the decoder its program calls for.
func (p *Parser) dispatch(f *frame) (Event, Status) {
	if f.own {
		return p.dovecot(f, f.msg)
	}
	prog := f.program
	switch {
	case dovecotIdent(prog):
		return p.dovecot(f, stripSyslogTags(f.msg))
	case smtpdIdent(prog):
		return p.postfix(f)
	case string(prog) == "auth":
		// PAM's own ident: only pam_*(dovecot:auth) lines.
		if msg := stripSyslogTags(f.msg); bytes.HasPrefix(msg, []byte("pam_")) {
			return p.pam(f, msg)
		}
	case string(prog) == "log":
		// macOS unified log: "log[64346]: (libdovecot.0.dylib) imap-login: …".
		if msg, ok := bytes.CutPrefix(f.msg, []byte("(libdovecot")); ok {
			if i := bytes.Index(msg, []byte(") ")); i >= 0 {
				return p.dovecot(f, msg[i+2:])
			}
		}
	}
	return Event{}, Ignored
}

// dovecotIdent reports whether prog is Dovecot's syslog ident: "dovecot",
// or "dovecot-auth" (the 1.x auth process). Look-alikes such as
// "dovecotx" or "dovecot-evil" are other programs.
func dovecotIdent(prog []byte) bool {
	return string(prog) == "dovecot" || string(prog) == "dovecot-auth"
}

// smtpdIdent reports whether prog is a Postfix smtpd ident: "postfix" or
// "postfix-<instance>", any service names, then "/smtpd":
// "postfix/smtpd", "postfix/submission/smtpd", "postfix-out.example/smtpd".
// "postfixevil/smtpd" and "postfix/smtpd-fake" are not.
func smtpdIdent(prog []byte) bool {
	rest, ok := postfixServices(prog)
	if !ok {
		return false
	}
	mid, ok := bytes.CutSuffix(rest, []byte("/smtpd"))
	// Service names between "postfix" and "/smtpd": "", "/submission".
	return ok && serviceNames(mid)
}

// postfixServices returns what follows "postfix" or "postfix-<instance>"
// in a Postfix ident: "" or "/service/…".
func postfixServices(prog []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(prog, []byte("postfix"))
	if !ok {
		return nil, false
	}
	if inst, ok := bytes.CutPrefix(rest, []byte("-")); ok {
		i := bytes.IndexByte(inst, '/')
		if i <= 0 || !identWord(inst[:i]) {
			return nil, false
		}
		rest = inst[i:]
	}
	return rest, true
}

// serviceNames reports whether b is "" or "/name" repeated, each name an
// identWord.
func serviceNames(b []byte) bool {
	for len(b) > 0 {
		if b[0] != '/' {
			return false
		}
		b = b[1:]
		j := bytes.IndexByte(b, '/')
		if j < 0 {
			j = len(b)
		}
		if !identWord(b[:j]) {
			return false
		}
		b = b[j:]
	}
	return true
}

// identWord reports whether b is a non-empty run of [A-Za-z0-9._-].
func identWord(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// stripSyslogTags removes a Solaris "[ID 583609 mail.info] " tag.
func stripSyslogTags(msg []byte) []byte {
	if rest, ok := bytes.CutPrefix(msg, []byte("[ID ")); ok {
		if i := bytes.Index(rest, []byte("] ")); i >= 0 {
			return rest[i+2:]
		}
	}
	return msg
}

// reasonText returns a logged reason as Event.Reason: a password note,
// "(given password: …)" or "(SHA1 of given password: …)", and everything
// after it are cut off, wherever the reason came from (logformats.md §7.10).
func reasonText(b []byte) string {
	if i := bytes.Index(b, []byte("given password")); i >= 0 {
		b = bytes.TrimRight(bytes.TrimSuffix(bytes.TrimSuffix(b[:i], []byte("SHA1 of ")), []byte("(")), " ")
	}
	return string(b)
}

// base returns an Event with the framing's fields set.
func (p *Parser) base(f *frame, k Kind) Event {
	if string(f.host) != p.host {
		p.host = string(f.host)
	}
	if string(f.program) != p.program {
		p.program = string(f.program)
	}
	return Event{Time: p.time(&f.st), Host: p.host, Program: p.program, Kind: k}
}

// malformed returns ev as a Malformed result with why as its Reason; the
// fields decoded from the message are cleared so nothing half-read leaks.
func malformed(ev Event, why string) (Event, Status) {
	return Event{Time: ev.Time, Host: ev.Host, Program: ev.Program, Kind: ev.Kind,
		Service: ev.Service, Reason: why}, Malformed
}
