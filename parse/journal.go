package parse

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// journal fields Parse reads from `journalctl -o json`.
type journal struct {
	message, ident, comm, host, pid, spid, realtime, unit jspan
}

// jspan is a JSON value: raw bytes of the line, or a range of Parser.jbuf
// once decoded. null and absent fields have ok false.
type jspan struct {
	b        []byte
	from, to int
	decoded  bool
	ok       bool
}

// parseJournal decodes one `journalctl -o json` record (logformats.md §1
// F11): MESSAGE as a string, a byte array (non-UTF-8) or null (too long),
// SYSLOG_IDENTIFIER (falling back to _COMM) as the program,
// __REALTIME_TIMESTAMP (µs, a string) as the time, _HOSTNAME as the host.
// Records that are not JSON objects, or that come from other programs, are
// Ignored; so are records whose _COMM is a tool that lets any user choose
// SYSLOG_IDENTIFIER (logger, systemd-cat), and records whose _SYSTEMD_UNIT
// (set by journald, not by the sender) is not Dovecot's ("dovecot*") for a
// Dovecot or PAM ident, or not Postfix's ("postfix*") for a Postfix one: a
// web application calling openlog("dovecot") runs in its own unit.
// Dovecot and Postfix never log a newline inside a login record, so a
// MESSAGE holding one that would yield an event is Malformed.
func (p *Parser) parseJournal(line []byte) (Event, Status) {
	var j journal
	p.jbuf = p.jbuf[:0]
	if !p.scanJournal(line, &j) {
		return Event{}, Ignored
	}
	ident := j.ident
	if !ident.ok {
		ident = j.comm
	}
	if comm := p.jbytes(j.comm); string(comm) == "logger" || string(comm) == "systemd-cat" {
		return Event{}, Ignored
	}
	if !j.message.ok || !ident.ok {
		return Event{}, Ignored
	}
	var f frame
	f.program = p.jbytes(ident)
	if unit := p.jbytes(j.unit); j.unit.ok && !unitRuns(unit, f.program) {
		return Event{}, Ignored
	}
	f.host = p.jbytes(j.host)
	f.pid = p.jbytes(j.pid)
	if len(f.pid) == 0 {
		f.pid = p.jbytes(j.spid)
	}
	f.msg = p.jbytes(j.message)
	f.lineLen = len(f.msg)
	if us := p.jbytes(j.realtime); allDigits(us) && len(us) <= 18 {
		var n int64
		for _, c := range us {
			n = n*10 + int64(c-'0')
		}
		f.st = stamp{kind: stampUnix, unixSec: n / 1e6, unixNsec: n % 1e6 * 1e3}
	}
	if !mayMatter(f.msg) {
		return Event{}, Ignored
	}
	ev, st := p.dispatch(&f)
	if st != Ignored && bytes.IndexByte(f.msg, '\n') >= 0 {
		return malformed(ev, "message spans lines")
	}
	return ev, st
}

// unitRuns reports whether the systemd unit may run the program of ident.
func unitRuns(unit, ident []byte) bool {
	switch {
	case dovecotIdent(ident), string(ident) == "auth":
		return bytes.HasPrefix(unit, []byte("dovecot"))
	case smtpdIdent(ident):
		return bytes.HasPrefix(unit, []byte("postfix"))
	}
	return true
}

// jbytes returns the bytes of a span.
func (p *Parser) jbytes(s jspan) []byte {
	if !s.ok {
		return nil
	}
	if s.decoded {
		return p.jbuf[s.from:s.to]
	}
	return s.b
}

// scanJournal walks a flat JSON object, keeping the fields of interest.
func (p *Parser) scanJournal(b []byte, j *journal) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		kEnd, esc := stringEnd(b, i)
		if kEnd < 0 {
			return false
		}
		key := b[i+1 : kEnd]
		if esc {
			key = nil // journal field names are plain [A-Z0-9_]
		}
		i = skipWS(b, kEnd+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		var dst *jspan
		switch string(key) {
		case "MESSAGE":
			dst = &j.message
		case "SYSLOG_IDENTIFIER":
			dst = &j.ident
		case "_COMM":
			dst = &j.comm
		case "_HOSTNAME":
			dst = &j.host
		case "_PID":
			dst = &j.pid
		case "SYSLOG_PID":
			dst = &j.spid
		case "__REALTIME_TIMESTAMP":
			dst = &j.realtime
		case "_SYSTEMD_UNIT":
			dst = &j.unit
		}
		next, ok := p.value(b, i, dst)
		if !ok {
			return false
		}
		i = skipWS(b, next)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
}

// value reads the JSON value at b[i:] into dst (nil: skip it) and returns
// the index after it. Strings are kept raw or decoded into p.jbuf; arrays
// of numbers (non-UTF-8 fields) become bytes; an array of strings (a
// repeated field) keeps its first string; numbers are kept as text.
func (p *Parser) value(b []byte, i int, dst *jspan) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, esc := stringEnd(b, i)
		if end < 0 {
			return 0, false
		}
		if dst != nil && !dst.ok {
			*dst = p.jstring(b[i+1:end], esc)
		}
		return end + 1, true
	case c == '[':
		i = skipWS(b, i+1)
		from := len(p.jbuf)
		bytesArr, first := dst != nil && !dst.ok, true
		if i < len(b) && b[i] == ']' {
			if bytesArr {
				*dst = jspan{decoded: true, from: from, to: from, ok: true}
			}
			return i + 1, true
		}
		for {
			if i < len(b) && isDigit(b[i]) && bytesArr {
				n, j := 0, i
				for j < len(b) && isDigit(b[j]) && n < 256 {
					n = n*10 + int(b[j]-'0')
					j++
				}
				if n > 255 {
					return 0, false
				}
				p.jbuf = append(p.jbuf, byte(n))
				i = j
			} else if first && bytesArr && i < len(b) && b[i] == '"' {
				// A repeated field: keep its first string.
				end, esc := stringEnd(b, i)
				if end < 0 {
					return 0, false
				}
				*dst = p.jstring(b[i+1:end], esc)
				bytesArr = false
				i = end + 1
			} else {
				next, ok := skipValue(b, i)
				if !ok {
					return 0, false
				}
				i = next
			}
			first = false
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				if bytesArr {
					*dst = jspan{decoded: true, from: from, to: len(p.jbuf), ok: true}
				}
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == '{':
		return skipValue(b, i)
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' {
			j++
		}
		if j == i {
			return 0, false
		}
		if dst != nil && !dst.ok && string(b[i:j]) != "null" {
			*dst = jspan{b: b[i:j], ok: true}
		}
		return j, true
	}
}

// skipValue returns the index after the JSON value at b[i:], without
// recursion (nesting depth is only counted).
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, _ := stringEnd(b, i)
			if end < 0 {
				return 0, false
			}
			i = end
			if depth == 0 {
				return i + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true // the end of the enclosing container
			}
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		}
	}
	return i, depth == 0
}

// jstring returns a span for the JSON string contents s.
func (p *Parser) jstring(s []byte, esc bool) jspan {
	if !esc {
		return jspan{b: s, ok: true}
	}
	from := len(p.jbuf)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			p.jbuf = append(p.jbuf, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			p.jbuf = append(p.jbuf, '\n')
		case 't':
			p.jbuf = append(p.jbuf, '\t')
		case 'r':
			p.jbuf = append(p.jbuf, '\r')
		case 'b':
			p.jbuf = append(p.jbuf, '\b')
		case 'f':
			p.jbuf = append(p.jbuf, '\f')
		case 'u':
			r, n := hex4(s, i+1)
			if n == 0 {
				p.jbuf = append(p.jbuf, '\\', 'u')
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, n2 := hex4(s, i+3); n2 > 0 && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			p.jbuf = utf8.AppendRune(p.jbuf, r)
		default: // \" \\ \/
			p.jbuf = append(p.jbuf, s[i])
		}
	}
	return jspan{decoded: true, from: from, to: len(p.jbuf), ok: true}
}

// hex4 reads four hex digits at s[i:].
func hex4(s []byte, i int) (rune, int) {
	if i+4 > len(s) {
		return 0, 0
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}

// stringEnd returns the index of the quote closing the string that opens at
// b[i], and whether it holds escapes; -1 if it is not closed.
func stringEnd(b []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j, esc
		}
	}
	return -1, esc
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
