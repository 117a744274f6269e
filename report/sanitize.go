package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Sanitize returns s made safe to show on a terminal, in a table cell, a CSV
// cell or an annotation. It returns s itself, without allocating, when
// nothing needs changing.
//
// Sanitize replaces:
//
//   - invalid UTF-8 bytes with U+FFFD, one per byte;
//
//   - \n, \r and \t with the two characters `\n`, `\r`, `\t`;
//
//   - every other C0 control character and DEL with `\xNN`, so ESC becomes
//     the four characters `\x1b`. With the ESC removed, an ANSI CSI or OSC
//     sequence (ESC [ … or ESC ] … BEL) is left as inert text: it is
//     neutralised, not stripped, so the admin sees what was logged;
//
//   - every other rune that is not graphic or a plain space according to
//     [unicode.IsPrint]: C1 controls (including the one-byte CSI U+009B and
//     OSC U+009D), bidirectional overrides and isolates (U+202A–U+202E,
//     U+2066–U+2069), zero-width and other format characters, line and
//     paragraph separators, non-ASCII spaces, private-use and unassigned
//     code points, with `\uNNNN` (or `\UNNNNNNNN`).
//
//   - a backslash with two backslashes, so that a user name holding the
//     literal text `\x1b` reads `\\x1b` and cannot pass for an escaped
//     ESC byte (DOMAIN\user reads DOMAIN\\user).
//
// The result is for reading, not for decoding: exact values are in the
// JSON output.
func Sanitize(s string) string { return sanitize(s, true) }

// sanitizeAnnotation is Sanitize keeping backslashes as they are, for
// GitHub annotations: their file property must name the real file, and
// their messages quote user names with Go escapes already, so a literal
// backslash there is always doubled.
func sanitizeAnnotation(s string) string { return sanitize(s, false) }

func sanitize(s string, bs bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && (c != '\\' || !bs) {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return sanitizeFrom(s, i, bs)
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) {
			return sanitizeFrom(s, i, bs)
		}
		i += n
	}
	return s
}

// sanitizeFrom finishes Sanitize once the first byte to change is at i.
func sanitizeFrom(s string, i int, bs bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f && (c != '\\' || !bs) {
			b.WriteByte(c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case !unicode.IsPrint(r):
			writeUEscape(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// writeUEscape writes r as \uNNNN, or \UNNNNNNNN beyond the BMP.
func writeUEscape(b *strings.Builder, r rune) {
	if r > 0xffff {
		b.WriteString(`\U`)
		for shift := 28; shift >= 0; shift -= 4 {
			b.WriteByte(hexDigits[(r>>shift)&0xf])
		}
		return
	}
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// csvCell returns a log-derived value ready for a CSV cell: sanitized, and
// with a leading ' when it starts with a character a spreadsheet would take
// as a formula (=, +, -, @, TAB, CR; OWASP "CSV injection").
func csvCell(s string) string {
	s = Sanitize(s)
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// CSVCell is csvCell for the commands that write CSV of their own: s
// sanitized, with a leading ' when a spreadsheet would take it as a
// formula.
func CSVCell(s string) string { return csvCell(s) }
