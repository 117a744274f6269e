package report

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mailaudit/mailaudit/ipranges"
)

// The JSON encoding here is hand-written and appends into a caller's
// buffer, so that writing an event costs no allocation and no reflection.

// appendString appends s as a JSON string. Invalid UTF-8 bytes become
// \ufffd (as encoding/json does). Every control character (C0, DEL, C1) and
// every rune that is not printable per [unicode.IsPrint] (bidi controls,
// zero-width characters, U+2028/U+2029, …) is escaped as \uNNNN (a
// surrogate pair beyond the BMP), so the output is plain ASCII-safe text a
// terminal can show; decoding yields exactly s (but for invalid bytes).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if !unicode.IsPrint(r) {
			b = append(b, s[start:i]...)
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU(b, r1)
				b = appendU(b, r2)
			} else {
				b = appendU(b, r)
			}
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendU appends the JSON escape \uNNNN of r (r <= 0xffff).
func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[(r>>12)&0xf], hexDigits[(r>>8)&0xf], hexDigits[(r>>4)&0xf], hexDigits[r&0xf])
}

// appendStringOrNull appends s as a JSON string, or null when s is empty.
func appendStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendTime appends t as an RFC 3339 JSON string in t's own zone, with a
// fraction only when t has one (time.RFC3339Nano), or null when t is zero.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendStrings appends ss as a JSON array of strings; nil gives [].
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendInt appends n as a JSON number.
func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendBool appends v as a JSON boolean.
func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendOrigin appends the origin object of the contracts, or null when o
// is the zero Origin. Keys, always all present and in this order: class,
// provider, product, labels, confidence, asn, country. Empty strings and a
// zero ASN are null; labels is [] when there are none. Each label is the
// object {name, prefix, source, date}, empty strings as null.
func appendOrigin(b []byte, o ipranges.Origin) []byte {
	if o.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, `{"class":`...)
	b = appendString(b, string(o.Class))
	b = append(b, `,"provider":`...)
	b = appendStringOrNull(b, o.Provider)
	b = append(b, `,"product":`...)
	b = appendStringOrNull(b, o.Product)
	b = append(b, `,"labels":[`...)
	for i, l := range o.Labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendStringOrNull(b, l.Name)
		b = append(b, `,"prefix":`...)
		b = appendStringOrNull(b, l.Prefix)
		b = append(b, `,"source":`...)
		b = appendStringOrNull(b, l.Source)
		b = append(b, `,"date":`...)
		b = appendStringOrNull(b, l.Date)
		b = append(b, `,"detail":`...)
		b = appendStringOrNull(b, l.Detail)
		b = append(b, '}')
	}
	b = append(b, `],"confidence":`...)
	b = appendStringOrNull(b, string(o.Confidence))
	b = append(b, `,"asn":`...)
	if o.ASN == 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, uint64(o.ASN), 10)
	}
	b = append(b, `,"country":`...)
	b = appendStringOrNull(b, o.Country)
	return append(b, '}')
}
