package parse

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// A LoginFormat is a declared Dovecot login_log_format_elements value
// (logformats.md §2.1), for servers whose elements differ from Dovecot's
// default, such as an element with a "<…>" value after rip
// ("orig_user=<%{orig_user}>"). With it, login lines are decoded against
// exactly these elements, in this order; elements whose variables were
// empty may be missing, as Dovecot drops them. Build one with
// ParseLoginFormat and set it as Parser.LoginFormat.
//
// Values taken from the client (the user, the original user, unknown
// variables) may contain anything, the separator ", " and a fake
// "rip=" included: every way the line can be read is tried, and a line
// that reads with two different rips is malformed ("ambiguous rip"),
// never decoded with the rip an attacker put in a user name. Of readings
// that agree on the rip, the one with the most elements present is
// taken.
type LoginFormat struct {
	text  string
	elems []fmtElem
	rip   int // index of the rip element
}

// fmtElem is one element: key, then a variable of kind, then end
// ("user=<", kindText, ">").
type fmtElem struct {
	key, end string
	kind     varKind
	always   bool // uses the user variable: Dovecot always logs it (user=<>)
}

type varKind uint8

const (
	kindText    varKind = iota // anything (user, orig_user, unknown variables)
	kindRIP                    // the remote address
	kindLIP                    // the local address
	kindNumber                 // digits (mpid, ports, pid)
	kindWord                   // no space (method, service)
	kindSecured                // TLS / secured / TLS handshaking…, no ", "
	kindSession                // session id
	kindLiteral                // no variable at all
)

// loginVars maps Dovecot 2.x variable names (one-letter and long, 2.3 and
// 2.4 spellings) to their kind; a user variable is marked by userVars.
var loginVars = map[string]varKind{
	"r": kindRIP, "rip": kindRIP, "remote_ip": kindRIP,
	"l": kindLIP, "lip": kindLIP, "local_ip": kindLIP,
	"e": kindNumber, "mpid": kindNumber, "mail_pid": kindNumber,
	"p": kindNumber, "pid": kindNumber, "a": kindNumber, "lport": kindNumber,
	"b": kindNumber, "rport": kindNumber, "local_port": kindNumber, "remote_port": kindNumber,
	"m": kindWord, "mech": kindWord, "mechanism": kindWord, "s": kindWord, "service": kindWord,
	"c": kindSecured, "secured": kindSecured, "k": kindSecured, "ssl_security": kindSecured,
	"session": kindSession,
}

var userVars = map[string]bool{"u": true, "user": true}

// ParseLoginFormat parses a login_log_format_elements value: elements
// separated by spaces, each one variable (%x or %{name}) between literal
// text, as in the default "user=<%u> method=%m rip=%r lip=%l mpid=%e %c
// session=<%{session}>". It must have exactly one rip element (%r,
// %{rip} or %{remote_ip}).
func ParseLoginFormat(s string) (*LoginFormat, error) {
	lf := &LoginFormat{text: s}
	rips := 0
	for _, f := range strings.Fields(s) {
		el, err := parseFmtElem(f)
		if err != nil {
			return nil, fmt.Errorf("login_log_format_elements: element %q: %w", f, err)
		}
		if el.kind == kindRIP {
			rips++
			lf.rip = len(lf.elems)
		}
		lf.elems = append(lf.elems, el)
	}
	switch {
	case len(lf.elems) == 0:
		return nil, errors.New("login_log_format_elements: empty")
	case rips == 0:
		return nil, errors.New("login_log_format_elements: no rip element (%r, %{rip} or %{remote_ip}): logins could not be placed")
	case rips > 1:
		return nil, errors.New("login_log_format_elements: more than one rip element")
	}
	return lf, nil
}

// parseFmtElem parses one element.
func parseFmtElem(f string) (fmtElem, error) {
	i := strings.IndexByte(f, '%')
	if i < 0 {
		return fmtElem{key: f, kind: kindLiteral}, nil
	}
	el := fmtElem{key: f[:i]}
	rest := f[i+1:]
	var name string
	switch {
	case strings.HasPrefix(rest, "{"):
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return el, errors.New("unterminated %{")
		}
		name, rest = rest[1:j], rest[j+1:]
		if k := strings.IndexByte(name, ':'); k >= 0 { // %{name:modifier} (2.4)
			name = name[:k]
		}
	default:
		// %Lu, %10r: modifiers, then one letter.
		j := 0
		for j < len(rest) && (rest[j] == 'L' || rest[j] == 'U' || rest[j] == 'X' || rest[j] == 'R' || rest[j] == 'N' || rest[j] == '-' || rest[j] == '.' || isDigit(rest[j])) {
			j++
		}
		if j >= len(rest) {
			return el, errors.New("% without a variable")
		}
		name, rest = rest[j:j+1], rest[j+1:]
	}
	el.kind = loginVars[name] // kindText for unknown ones
	el.always = userVars[name]
	if strings.IndexByte(rest, '%') >= 0 {
		// Several variables: the value is only known to be text.
		el.kind, el.always = kindText, el.always || strings.Contains(rest, "%u") || strings.Contains(rest, "%{user}")
		el.end = lastLiteral(rest)
		return el, nil
	}
	el.end = rest
	return el, nil
}

// lastLiteral returns the literal text after the last variable of s.
func lastLiteral(s string) string {
	i := strings.LastIndexByte(s, '%')
	rest := s[i+1:]
	if strings.HasPrefix(rest, "{") {
		if j := strings.IndexByte(rest, '}'); j >= 0 {
			return rest[j+1:]
		}
		return ""
	}
	if len(rest) > 0 {
		return rest[1:]
	}
	return ""
}

// String returns the value it was parsed from.
func (lf *LoginFormat) String() string { return lf.text }

// declaredBudget bounds the work of decoding one line (steps of the
// search): a hostile user name with many separators could otherwise make
// the search slow. A line that needs more is malformed.
const declaredBudget = 20000

// reading is one way of reading the elements of a line.
type reading struct {
	vals [][]byte // per format element; nil when absent
	has  []bool
}

// matcher searches the readings of one element list.
type matcher struct {
	lf      *LoginFormat
	msg     []byte
	steps   int
	found   int
	first   reading // the chosen reading
	present int     // elements present in first
	cur     reading
	differs bool // two readings have different rips
}

// parseDeclared decodes "<message>: <elements>" against lf. The message
// is Dovecot's own text: the elements start at the first ": " from which
// they can be read. It returns why a line cannot be decoded, or "".
func (e *elems) parseDeclared(lf *LoginFormat, msg []byte, lineLen int) string {
	m := &matcher{lf: lf, msg: msg}
	n := len(lf.elems)
	m.cur = reading{vals: make([][]byte, n), has: make([]bool, n)}
	for p := 0; ; {
		i := bytes.Index(msg[p:], []byte(": "))
		if i < 0 {
			break
		}
		start := p + i + 2
		m.match(0, start)
		if m.steps > declaredBudget {
			return "too many ways to read the elements"
		}
		if m.found > 0 {
			if m.differs {
				return "ambiguous rip: the line reads with different rip elements under login_log_format_elements"
			}
			e.message = msg[:start-2]
			return e.fill(lf, m.first, lineLen, len(msg))
		}
		p = start
	}
	return "elements do not match login_log_format_elements"
}

// match tries to read elements i… from msg[pos:] to its end.
func (m *matcher) match(i, pos int) {
	m.steps++
	if m.steps > declaredBudget {
		return
	}
	if i == len(m.lf.elems) {
		if pos == len(m.msg) {
			m.record()
		}
		return
	}
	el := m.lf.elems[i]
	required := el.always || el.kind == kindLiteral || el.kind == kindRIP
	if !required || pos == len(m.msg) {
		// Dropped (its variables were empty). At the end of the line
		// only dropped elements can follow. A line without a rip is not
		// decoded at all.
		if pos == len(m.msg) && required {
			return
		}
		m.cur.has[i] = false
		m.cur.vals[i] = nil
		m.match(i+1, pos)
		if pos == len(m.msg) {
			return
		}
	}
	rest := m.msg[pos:]
	if !bytes.HasPrefix(rest, []byte(el.key)) {
		return
	}
	vs := pos + len(el.key)
	try := func(ve int) { // value msg[vs:ve], element ends at ve+len(end)
		after := ve + len(el.end)
		if ve < vs || after > len(m.msg) || string(m.msg[ve:after]) != el.end || !validValue(el.kind, m.msg[vs:ve]) {
			return
		}
		next := after
		switch {
		case after == len(m.msg):
		case bytes.HasPrefix(m.msg[after:], []byte(", ")) && i+1 < len(m.lf.elems):
			next = after + 2
		default:
			return
		}
		m.cur.has[i], m.cur.vals[i] = true, m.msg[vs:ve]
		m.match(i+1, next)
		m.cur.has[i], m.cur.vals[i] = false, nil
	}
	if el.kind != kindText {
		// The value has no ", ": it ends at the first one or the line's end.
		j := bytes.Index(m.msg[vs:], []byte(", "))
		ve := len(m.msg)
		if j >= 0 {
			ve = vs + j
		}
		try(ve - len(el.end))
		return
	}
	// Text: it may end before any ", " (or at the line's end).
	for p := vs; p <= len(m.msg) && m.steps <= declaredBudget; {
		j := bytes.Index(m.msg[p:], []byte(", "))
		ve := len(m.msg)
		if j >= 0 {
			ve = p + j
		}
		try(ve - len(el.end))
		if j < 0 {
			break
		}
		p = ve + 1
		m.steps++
	}
}

// record keeps the reading with the most elements present (a text value
// can swallow the optional elements after it: "orig_user=<a>, mpid=1"
// also reads as an orig_user "a>, mpid=1" with no mpid; Dovecot's own
// reading is the one with short values) and notes whether two readings
// differ in their rip. Only the rip decides: readings that differ in
// what the client's text holds are the client's business, readings with
// different rips are an injection.
func (m *matcher) record() {
	m.found++
	present := 0
	for _, h := range m.cur.has {
		if h {
			present++
		}
	}
	if m.found > 1 {
		rip := m.lf.rip
		if !bytes.Equal(m.cur.vals[rip], m.first.vals[rip]) {
			m.differs = true
		}
		if present <= m.present {
			return
		}
	}
	m.present = present
	m.first = reading{vals: append([][]byte(nil), m.cur.vals...), has: append([]bool(nil), m.cur.has...)}
}

// validValue reports whether v can be a value of kind.
func validValue(kind varKind, v []byte) bool {
	switch kind {
	case kindRIP, kindLIP:
		_, err := netip.ParseAddr(string(v))
		return err == nil
	case kindNumber:
		if len(v) == 0 {
			return false
		}
		for _, c := range v {
			if !isDigit(c) {
				return false
			}
		}
	case kindWord:
		return len(v) > 0 && bytes.IndexByte(v, ' ') < 0
	case kindSecured:
		// %c: TLS, TLS: <error>, TLS handshaking[: <error>], secured, TSL;
		// %k: TLSv1.3 with cipher …, (proxied). Not "key=value": a
		// bare element must not read another element's text.
		for _, p := range [...]string{"TLS", "TSL", "secured", "SSL", "("} {
			if bytes.HasPrefix(v, []byte(p)) {
				return true
			}
		}
		return false
	case kindSession:
		for _, c := range v {
			if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
				return false
			}
		}
	case kindLiteral:
		return len(v) == 0
	}
	return true
}

// fill sets e from a reading.
func (e *elems) fill(lf *LoginFormat, r reading, lineLen, msgLen int) string {
	hasSecured := false
	e.tls = TLSNo // Dovecot drops the element for plaintext connections
	for i, el := range lf.elems {
		v := r.vals[i]
		if el.kind == kindSecured {
			hasSecured = true
		}
		if !r.has[i] {
			continue
		}
		switch {
		case el.kind == kindRIP:
			e.ripText = string(v)
			e.addr, _ = netip.ParseAddr(e.ripText)
			// A rip that ends a long line may have been cut short.
			if i == len(lf.elems)-1 || !laterPresent(r, i) {
				if lineLen >= truncatedLen && el.end == "" {
					return "rip ends a possibly truncated line"
				}
			}
		case el.kind == kindLIP:
			e.lip = v
		case el.kind == kindSession:
			e.session = v
		case el.kind == kindWord && strings.Contains(el.key, "method"):
			e.method = v
		case el.always:
			e.user, e.hasUser = v, true
		case el.kind == kindSecured:
			switch {
			case string(v) == "secured":
				e.secured = true
			case bytes.HasPrefix(v, []byte("TLS handshaking")):
				e.tls = TLSNo
			case bytes.HasPrefix(v, []byte("TLS")), bytes.HasPrefix(v, []byte("TSL")):
				e.tls = TLSYes
			}
		}
	}
	if !hasSecured {
		e.tls = TLSUnknown
	}
	if e.ripText == "" {
		return "no rip element"
	}
	return ""
}

// laterPresent reports whether an element after i is in r.
func laterPresent(r reading, i int) bool {
	for _, h := range r.has[i+1:] {
		if h {
			return true
		}
	}
	return false
}
