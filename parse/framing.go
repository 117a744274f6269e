package parse

import "bytes"

// frame decodes the framing of a non-JSON line into f. It reports false for
// lines with no framing it knows (which then cannot be trusted).
//
// Framings (logformats.md §1): F1 RFC 3164 and F10 journalctl short /
// short-precise / short-iso ("<stamp> host ident[pid]: msg"); F2 with a
// <PRI> and possibly no host; F4 rsyslog RFC 3339; F5 RFC 5424; F3 Solaris
// tags and F9 macOS are handled by dispatch; F6 Dovecot's own file
// ("<stamp> imap-login: …"), F7 Dovecot 1.x ("dovecot: <iso stamp> Info:
// imap-login: …") and F8 TAI64N have no host and no ident (f.own); F12
// Postfix maillog_file is F1 with a zero-padded day.
func (p *Parser) frame(line []byte, f *frame) bool {
	f.lineLen = len(line)
	rest := line
	pri := false
	switch c := line[0]; {
	case c == '<':
		i := bytes.IndexByte(line, '>')
		if i < 2 || i > 4 || !allDigits(line[1:i]) {
			return false
		}
		rest, pri = line[i+1:], true
		if len(rest) > 2 && isDigit(rest[0]) && rest[1] == ' ' {
			return rfc5424(rest[2:], f)
		}
		n, ok := bsdStamp(rest, &f.st)
		if !ok {
			if n, ok = isoStamp(rest, &f.st); !ok {
				return false
			}
		}
		rest = rest[n:]
	case c == '@':
		n, ok := tai64n(line, &f.st)
		if !ok {
			return false
		}
		rest = line[n:]
	case isDigit(c):
		n, ok := isoStamp(line, &f.st)
		if !ok {
			return false
		}
		rest = line[n:]
	default:
		n, ok := bsdStamp(line, &f.st)
		if ok {
			rest = line[n:]
			break
		}
		// F7, Dovecot 1.x: "dovecot: 2011-03-03 18:36:18 Info: imap-login: …".
		if r, ok := bytes.CutPrefix(line, []byte("dovecot: ")); ok {
			if n, ok := isoStamp(r, &f.st); ok && n < len(r) && r[n] == ' ' {
				f.msg, f.own = r[n+1:], true
				return true
			}
		}
		// No stamp at all: only Dovecot's own output, when the caller says so.
		if p.DovecotFile {
			f.st, f.msg, f.own = stamp{}, line, true
			return true
		}
		return false
	}
	if len(rest) < 2 || rest[0] != ' ' {
		return false
	}
	rest = rest[1:]
	// Is the first word a host, or already an ident / a Dovecot process?
	sp := bytes.IndexByte(rest, ' ')
	word := rest
	if sp >= 0 {
		word = rest[:sp]
	}
	if len(word) == 0 {
		return false
	}
	if word[len(word)-1] != ':' && bytes.IndexAny(word, "([<") < 0 {
		if sp < 0 {
			return false
		}
		f.host, rest = word, rest[sp+1:]
		return ident(rest, f)
	}
	// No host. With a <PRI> it is a network syslog message and the word is
	// an ident; otherwise it is an ident only if it names a syslog program
	// we read (F2 written to a file), else a Dovecot process in Dovecot's
	// own log file.
	if pri || syslogIdent(word) {
		return ident(rest, f)
	}
	f.msg, f.own = rest, true
	return true
}

// syslogIdent reports whether word ("dovecot[812]:", "postfix/smtpd[3]:")
// names a program that logs through syslog under that ident, as opposed to
// a Dovecot process prefix ("imap-login:", "auth:") in Dovecot's own file.
func syslogIdent(word []byte) bool {
	if i := bytes.IndexAny(word, "[:"); i >= 0 {
		word = word[:i]
	}
	return bytes.HasPrefix(word, []byte("dovecot")) || bytes.HasPrefix(word, []byte("postfix"))
}

// ident decodes "name[pid]: msg" or "name: msg" into f.
func ident(b []byte, f *frame) bool {
	i := bytes.IndexAny(b, "[: ")
	if i <= 0 {
		return false
	}
	f.program = b[:i]
	b = b[i:]
	if b[0] == '[' {
		j := bytes.IndexByte(b, ']')
		if j < 0 {
			return false
		}
		f.pid, b = b[1:j], b[j+1:]
	}
	if len(b) == 0 || b[0] != ':' {
		return false
	}
	b = b[1:]
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	f.msg = b
	return true
}

// rfc5424 decodes "STAMP HOST APP PROCID MSGID SD MSG" (after "<PRI>1 ").
func rfc5424(b []byte, f *frame) bool {
	var fields [5][]byte
	for k := range fields {
		i := bytes.IndexByte(b, ' ')
		if i <= 0 {
			return false
		}
		fields[k], b = b[:i], b[i+1:]
	}
	if fields[0][0] != '-' {
		if n, ok := isoStamp(fields[0], &f.st); !ok || n != len(fields[0]) {
			return false
		}
	}
	if string(fields[1]) != "-" {
		f.host = fields[1]
	}
	if string(fields[2]) == "-" {
		return false
	}
	f.program = fields[2]
	if string(fields[3]) != "-" {
		f.pid = fields[3]
	}
	// Structured data: "-" or one or more [id k="v" …] with \" \\ \] escapes.
	switch {
	case len(b) > 0 && b[0] == '-':
		b = b[1:]
	case len(b) > 0 && b[0] == '[':
		for len(b) > 0 && b[0] == '[' {
			i, quoted := 1, false
			for ; i < len(b); i++ {
				c := b[i]
				if c == '\\' && quoted {
					i++
					continue
				}
				if c == '"' {
					quoted = !quoted
				}
				if c == ']' && !quoted {
					break
				}
			}
			if i >= len(b) {
				return false
			}
			b = b[i+1:]
		}
	default:
		return false
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	f.msg = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // BOM
	return true
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}
