package parse

import (
	"bytes"
	"net/netip"
)

// MaxClient is the longest Event.Client, in bytes.
const MaxClient = 64

// clientID decodes an imap_id_log line of a login process (Dovecot 2.2 and
// 2.3, logformats.md "ID sent"):
//
//	imap-login: ID sent: name=Thunderbird, version=115.3: user=<>, rip=…, lip=…, TLS, session=<…>
//
// into a KindClient event. Everything between "ID sent: " and the element
// list is the client's own text (keys and values may hold ", ", ": " and
// "rip="), so the element list is what follows the last ": " of the line,
// and every one of its elements must have a shape Dovecot logs: exactly one
// rip= that parses as an address, at most one lip=, session=<…> and
// user=<…> (ending in '>'), and only TLS, secured, mpid= besides. Anything
// else, or no name= key, and the line is Ignored: it records no attempt,
// so nothing is lost that a login line would not say.
func (p *Parser) clientID(f *frame, svc, msg []byte) (Event, Status) {
	id := msg[len("ID sent: "):]
	i := bytes.LastIndex(id, []byte(": "))
	if i < 0 {
		return Event{}, Ignored
	}
	if f.lineLen >= truncatedLen {
		return Event{}, Ignored // the element list may be cut short
	}
	text, list := id[:i], id[i+2:]
	var rip, lip, session []byte
	seen := 0 // bits of the elements seen once
	for tok := range bytes.SplitSeq(list, []byte(", ")) {
		bit := 0
		switch {
		case bytes.HasPrefix(tok, []byte("rip=")):
			rip, bit = tok[len("rip="):], 1
		case bytes.HasPrefix(tok, []byte("lip=")):
			lip, bit = tok[len("lip="):], 2
		case bytes.HasPrefix(tok, []byte("session=<")) && len(tok) > len("session=<") && tok[len(tok)-1] == '>':
			session, bit = tok[len("session=<"):len(tok)-1], 4
		case bytes.HasPrefix(tok, []byte("user=<")) && tok[len(tok)-1] == '>':
			bit = 8
		case bytes.HasPrefix(tok, []byte("mpid=")) && isDigits(tok[len("mpid="):]):
			bit = 16
		case string(tok) == "TLS", string(tok) == "secured", string(tok) == "TLS handshaking":
			bit = 32
		default:
			return Event{}, Ignored
		}
		if seen&bit != 0 {
			return Event{}, Ignored
		}
		seen |= bit
	}
	if rip == nil || bytes.ContainsAny(session, "<> ") {
		return Event{}, Ignored
	}
	addr, err := netip.ParseAddr(string(rip))
	if err != nil {
		return Event{}, Ignored
	}
	name := clientName(text)
	if name == "" {
		return Event{}, Ignored
	}
	ev := p.base(f, KindClient)
	ev.Service = service(svc)
	ev.RemoteIP, ev.Addr = string(rip), addr
	if _, err := netip.ParseAddr(string(lip)); err == nil {
		ev.LocalIP = string(lip)
	}
	ev.Session = string(session)
	ev.Client = name
	return ev, Parsed
}

// clientName returns the value of the first name= key of an ID text
// "k=v, k=v, …", sanitized: bytes outside printable ASCII become '?',
// surrounding spaces go, and it is cut to MaxClient bytes.
func clientName(text []byte) string {
	var v []byte
	for {
		if rest, ok := bytes.CutPrefix(text, []byte("name=")); ok {
			v = rest
			break
		}
		j := bytes.Index(text, []byte(", "))
		if j < 0 {
			return ""
		}
		text = text[j+2:]
	}
	if j := bytes.Index(v, []byte(", ")); j >= 0 {
		v = v[:j]
	}
	v = bytes.TrimSpace(v)
	if len(v) > MaxClient {
		v = v[:MaxClient]
	}
	out := make([]byte, len(v))
	for i, c := range v {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(bytes.TrimSpace(out))
}

// isDigits reports whether b is a non-empty run of decimal digits.
func isDigits(b []byte) bool {
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
