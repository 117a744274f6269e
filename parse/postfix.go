package parse

import (
	"bytes"
	"net/netip"
)

// postfix decodes the SASL lines of a postfix*/…smtpd program
// (logformats.md §5):
//
//	warning: name[addr](:port)?: SASL M authentication failed: reason[, sasl_username=u]
//	warning: name[addr](:port)?: SASL M authentication aborted
//	QUEUEID: client=name[addr](:port)?, sasl_method=M, sasl_username=u[, sasl_sender=…]
//
// The address is read from the left, where it precedes anything the client
// chose; the failed sasl_username (Postfix ≥ 3.9) runs to the end of the line.
func (p *Parser) postfix(f *frame) (Event, Status) {
	msg := f.msg
	if rest, ok := bytes.CutPrefix(msg, []byte("warning: ")); ok {
		if !bytes.Contains(rest, []byte(": SASL ")) {
			return Event{}, Ignored
		}
		return p.postfixFailed(f, rest)
	}
	if bytes.Contains(msg, []byte(", sasl_method=")) {
		return p.postfixClient(f, msg)
	}
	return Event{}, Ignored
}

// namaddr splits "name[addr]" or "name[addr]:port" at the start of b and
// returns the address text and what follows.
func namaddr(b []byte) (addr, rest []byte, ok bool) {
	lb := bytes.IndexByte(b, '[')
	if lb <= 0 || !identWord(b[:lb]) {
		return nil, nil, false
	}
	rb := bytes.IndexByte(b[lb:], ']')
	if rb < 0 {
		return nil, nil, false
	}
	addr, rest = b[lb+1:lb+rb], b[lb+rb+1:]
	if len(rest) > 1 && rest[0] == ':' && isDigit(rest[1]) {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		rest = rest[i:]
	}
	return addr, rest, true
}

func (p *Parser) postfixBase(f *frame) Event {
	ev := p.base(f, KindSASL)
	ev.Service = "smtp"
	if len(f.pid) > 0 {
		ev.Session = "smtpd[" + string(f.pid) + "]"
	}
	ev.TLS = TLSUnknown
	return ev
}

func (p *Parser) postfixFailed(f *frame, b []byte) (Event, Status) {
	addr, rest, ok := namaddr(b)
	if !ok {
		return Event{}, Ignored
	}
	rest, ok = bytes.CutPrefix(rest, []byte(": SASL "))
	if !ok {
		// Postfix logs a forward-confirmed host name only if it is a valid
		// one, so "evil[6.6.6.6].example[203.0.113.5]" is no namaddr.
		return malformed(p.postfixBase(f), "client name and address cannot be told apart")
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return Event{}, Ignored
	}
	method, rest := rest[:sp], rest[sp:]
	ev := p.postfixBase(f)
	switch {
	case bytes.HasPrefix(rest, []byte(" authentication failed")):
		reason := rest[len(" authentication failed"):]
		reason = bytes.TrimPrefix(bytes.TrimPrefix(reason, []byte(":")), []byte(" "))
		ev.Result = Failure
		if i := bytes.Index(reason, []byte(", sasl_username=")); i >= 0 {
			if u := reason[i+len(", sasl_username="):]; string(u) != "(unavailable)" {
				ev.User, ev.HasUser = string(u), true
			}
			reason = reason[:i]
		}
		if string(reason) == "Connection lost to authentication server" {
			ev.Result = Aborted // the SASL backend is down: no credential verdict
		}
		ev.Reason = reasonText(reason)
	case bytes.HasPrefix(rest, []byte(" authentication aborted")):
		ev.Result, ev.Reason = Aborted, "authentication aborted"
	default:
		return Event{}, Ignored
	}
	return p.postfixAddr(ev, addr, method)
}

func (p *Parser) postfixClient(f *frame, msg []byte) (Event, Status) {
	c := bytes.Index(msg, []byte(": client="))
	if c <= 0 || !isQueueID(msg[:c]) {
		return Event{}, Ignored
	}
	addr, rest, ok := namaddr(msg[c+len(": client="):])
	if !ok {
		return Event{}, Ignored
	}
	rest, ok = bytes.CutPrefix(rest, []byte(", sasl_method="))
	if !ok {
		return malformed(p.postfixBase(f), "client name and address cannot be told apart")
	}
	method := rest
	if i := bytes.Index(rest, []byte(", ")); i >= 0 {
		method, rest = rest[:i], rest[i:]
	} else {
		rest = nil
	}
	ev := p.postfixBase(f)
	ev.Result = Success
	if u, ok := bytes.CutPrefix(rest, []byte(", sasl_username=")); ok {
		for _, next := range [...]string{", sasl_sender=", ", orig_queue_id=", ", orig_client="} {
			if i := bytes.Index(u, []byte(next)); i >= 0 {
				u = u[:i]
			}
		}
		ev.User, ev.HasUser = string(u), true
	}
	return p.postfixAddr(ev, addr, method)
}

// postfixAddr sets the address and method of a SASL event.
func (p *Parser) postfixAddr(ev Event, addr, method []byte) (Event, Status) {
	a, err := netip.ParseAddr(string(addr))
	if err != nil {
		return malformed(ev, "client address is not an IP address")
	}
	ev.RemoteIP, ev.Addr = string(addr), a
	ev.Method = upper(method)
	return ev, Parsed
}

// isQueueID reports whether b is a Postfix queue id or NOQUEUE.
func isQueueID(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if !(isDigit(c) || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
