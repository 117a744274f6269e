package parse

import (
	"bytes"
	"net/netip"
)

// truncatedLen is the line length from which a rip= that ends the line may
// have been cut short: RFC 3164 relays cut at 1024 bytes, Postfix at 2000,
// Dovecot splits at 4096. A real Dovecot login line is a few hundred bytes
// (the user is at most 80), so a rip at the end of a line this long is not
// trusted (a cut "rip=198.51.100.25" still parses as 198.51.100.2).
const truncatedLen = 1000

// dovecot decodes a Dovecot message: "[Level: ][dovecot: ]<process>: …".
func (p *Parser) dovecot(f *frame, msg []byte) (Event, Status) {
	msg, ok := stripLevel(msg)
	if !ok {
		return Event{}, Ignored
	}
	msg = bytes.TrimPrefix(msg, []byte("dovecot: "))
	if i := bytes.Index(msg, []byte("-login: ")); i > 0 && isWord(msg[:i]) {
		return p.login(f, msg[:i], msg[i+len("-login: "):])
	}
	switch {
	case bytes.HasPrefix(msg, []byte("auth")), bytes.HasPrefix(msg, []byte("dovecot-auth")):
		return p.auth(f, msg)
	case bytes.HasPrefix(msg, []byte("pam_")):
		return p.pam(f, msg)
	}
	return Event{}, Ignored
}

// stripLevel removes a leading "Info: " and reports false for the other
// level words: Dovecot logs logins and auth failures at info level only.
func stripLevel(msg []byte) ([]byte, bool) {
	if rest, ok := bytes.CutPrefix(msg, []byte("Info: ")); ok {
		return rest, true
	}
	for _, l := range [...]string{"Warning: ", "Warn: ", "Error: ", "Fatal: ", "Panic: ", "Debug: "} {
		if bytes.HasPrefix(msg, []byte(l)) {
			return msg, false
		}
	}
	return msg, true
}

// isWord reports whether b is a non-empty run of [a-z0-9].
func isWord(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || isDigit(c)) {
			return false
		}
	}
	return true
}

// loginVerb is what the start of a login-process message says.
type loginVerb uint8

const (
	verbNone    loginVerb = iota // not a login or disconnect line (ID sent, warnings, …)
	verbSuccess                  // Login: (≤2.3), Logged in: (2.4), started proxying
	verbEnd                      // the connection ended before a login; the reason tells how
	verbLimit                    // authenticated, but the per-user connection limit refused it
	verbProxy                    // "proxy(<user>…): started proxying to …": success once the user matches
)

func verbOf(msg []byte) loginVerb {
	switch {
	case bytes.HasPrefix(msg, []byte("Login: ")), bytes.HasPrefix(msg, []byte("Logged in: ")):
		return verbSuccess
	case bytes.HasPrefix(msg, []byte("Disconnected")),
		bytes.HasPrefix(msg, []byte("Aborted login")),
		bytes.HasPrefix(msg, []byte("Login aborted")),
		bytes.HasPrefix(msg, []byte("Client has quit the connection")),
		bytes.HasPrefix(msg, []byte("Remote closed connection")):
		return verbEnd
	case bytes.HasPrefix(msg, []byte("Maximum number of connections from user+IP exceeded")):
		return verbLimit
	case bytes.HasPrefix(msg, []byte("Started proxying to ")):
		return verbSuccess
	case bytes.HasPrefix(msg, []byte("proxy(")):
		// The proxied user precedes the verb and is not escaped: whether
		// this is "started proxying" or a failure ("Login failed to …")
		// is only known once the user is read from the elements.
		return verbProxy
	}
	return verbNone
}

// proxyStarted reports whether msg is "proxy(<user>): started proxying to …"
// (2.x) or "proxy(<user>,<ip>:<port>): Started proxying to …" (2.3.21) for
// exactly this user: a user name containing "): started proxying to " must
// not turn a proxy failure into a success.
func proxyStarted(msg, user []byte) bool {
	rest, ok := bytes.CutPrefix(msg, []byte("proxy("))
	if !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, user); !ok {
		return false
	}
	if dest, ok := bytes.CutPrefix(rest, []byte(",")); ok {
		i := 0
		for i < len(dest) && (isDigit(dest[i]) || isHexLetter(dest[i]) || dest[i] == '.' || dest[i] == ':' || dest[i] == '[' || dest[i] == ']') {
			i++
		}
		if i == 0 {
			return false
		}
		rest = dest[i:]
	}
	return bytes.HasPrefix(rest, []byte("): started proxying to ")) ||
		bytes.HasPrefix(rest, []byte("): Started proxying to "))
}

func isHexLetter(c byte) bool { return 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// login decodes a login-process line "<svc>-login: [Info: ]<message>: <elements>".
//
// The per-user connection limit (2.x "Maximum number of connections from
// user+IP exceeded", 2.4 "(connection limit reached, …) (connection_limit)")
// comes after a successful authentication, but no mailbox was opened: it is
// reported as Aborted with Refused set, so it never counts as a successful
// login from that address, nor as a wrong password.
func (p *Parser) login(f *frame, svc, msg []byte) (Event, Status) {
	msg, ok := stripLevel(msg)
	if !ok {
		return Event{}, Ignored
	}
	if bytes.HasPrefix(msg, []byte("ID sent: ")) {
		return p.clientID(f, svc, msg)
	}
	verb := verbOf(msg)
	if verb == verbNone {
		return Event{}, Ignored
	}
	ev := p.base(f, KindLogin)
	ev.Service = service(svc)
	var e elems
	var why string
	if p.LoginFormat != nil {
		why = e.parseDeclared(p.LoginFormat, msg, f.lineLen)
	} else {
		why = e.parse(msg, f.lineLen)
	}
	if why != "" {
		if verb == verbProxy && !bytes.Contains(msg, []byte("tarted proxying to ")) {
			return Event{}, Ignored
		}
		return malformed(ev, why)
	}
	if verb == verbProxy {
		if !e.hasUser || !proxyStarted(msg, e.user) {
			return Event{}, Ignored // a proxy failure or disconnect: the backend logs the verdict
		}
		verb = verbSuccess
	}
	var human, event []byte
	if verb == verbEnd {
		human, event = reasons(e.message)
	}
	if e.ambiguous {
		// "user=<a>, method=X>": user "a" with method "X>", or user
		// "a>, method=X" and no method. Dovecot logs the method of every
		// authentication attempt, so when the line says there was one (a
		// login, attempts, a credential verdict) the first reading is the
		// only possible one; otherwise nothing tells.
		if verb == verbEnd && attempts(human) == 0 {
			if r, _ := classify(human, event); r != Failure || bytes.HasPrefix(human, []byte("tried to use ")) {
				return malformed(ev, "ambiguous user field")
			}
		}
	}
	ev.RemoteIP, ev.Addr = e.ripText, e.addr
	ev.User, ev.HasUser = string(e.user), e.hasUser
	if len(e.lip) > 0 {
		// The server's own address: the same on most lines.
		if string(e.lip) != p.lip {
			p.lip = string(e.lip)
			_, err := netip.ParseAddr(p.lip)
			p.lipOK = err == nil
		}
		if p.lipOK {
			ev.LocalIP = p.lip
		}
	}
	ev.TLS, ev.Secured = e.tls, e.secured
	ev.Method = upper(e.method)
	ev.Session = string(e.session)
	switch verb {
	case verbSuccess:
		ev.Result = Success
	case verbLimit:
		ev.Result, ev.Refused = Aborted, true
		ev.Reason = reasonText(bytes.TrimSpace(e.message))
	case verbEnd:
		ev.Result, ev.Refused = classify(human, event)
		ev.Attempts = attempts(human)
		switch {
		case len(human) > 0:
			ev.Reason = reasonText(human)
		case len(event) > 0:
			ev.Reason = string(event)
		default:
			ev.Reason = reasonText(bytes.TrimSpace(e.message))
		}
	}
	return ev, Parsed
}

// service returns the service name for a login process name, without
// allocating for the usual ones.
func service(svc []byte) string {
	switch string(svc) {
	case "imap":
		return "imap"
	case "pop3":
		return "pop3"
	case "submission":
		return "submission"
	case "managesieve":
		return "managesieve"
	}
	return string(svc)
}

// elems is a decoded login_log_format_elements list.
type elems struct {
	message []byte // the text before the elements: "Disconnected (auth failed, …)"
	user    []byte
	hasUser bool
	method  []byte
	ripText string
	addr    netip.Addr
	lip     []byte
	tls     TLS
	secured bool
	session []byte
	// ambiguous is set when the user field reads both as "<u>, method=M"
	// and as "<u>, method=M>" without a method; user and method hold the
	// first reading.
	ambiguous bool
}

// parse decodes "<message>: <elements>" from the right (logformats.md §7.1,
// §9.4). The user value is attacker-chosen and unescaped; every element after
// it is Dovecot's own (method is client-chosen too, but has no spaces). So:
// rip is the last "rip=" element; method the "method=" element right before
// it; the user runs from the first ": user=<" to the ">" right before those.
// Any other rip= must lie inside the user value, or the line is rejected,
// as is a line whose elements after the rip could still be the user's (see
// trailing). A user that can end before or after ", method=M>" sets
// e.ambiguous (the caller decides). It returns why a line cannot be
// decoded, or "".
func (e *elems) parse(msg []byte, lineLen int) string {
	r := lastElem(msg, "rip=")
	if r < 0 {
		return "no rip element"
	}
	v := msg[r+len("rip="):]
	end := bytes.Index(v, []byte(", "))
	if end < 0 {
		end = len(v)
		if lineLen >= truncatedLen {
			return "rip ends a possibly truncated line"
		}
	}
	e.ripText = string(v[:end])
	a, err := netip.ParseAddr(e.ripText)
	if err != nil {
		return "rip is not an IP address"
	}
	e.addr = a
	before := msg[:r-2] // without ", rip=" / ": rip="
	u := bytes.Index(msg, []byte(": user="))
	userFirst := u >= 0 && u < r-2
	if why := e.trailing(v[end:], userFirst); why != "" {
		return why
	}
	if !userFirst {
		// No user element (before the rip): nothing attacker-chosen and
		// spaced precedes the rip, so a second rip= cannot be explained.
		if hasElem(before, "rip=") {
			return "more than one rip element"
		}
		first := r // where the element list starts
		if m := lastElem(before, "method="); m >= 0 && bytes.IndexByte(before[m:], ' ') < 0 {
			e.method, first = before[m+len("method="):], m
		}
		e.message = msg[:first-2]
		if msg[first-2] != ':' { // unknown elements before: cut at the last ": "
			if i := bytes.LastIndex(e.message, []byte(": ")); i >= 0 {
				e.message = e.message[:i]
			}
		}
		return ""
	}
	if hasElem(msg[:u], "rip=") {
		return "rip element outside the user field"
	}
	e.message, e.hasUser = msg[:u], true
	val := msg[u+len(": user=") : r-2] // "<user>[, method=M]" or "user[, method=M]"
	bracket := len(val) > 0 && val[0] == '<'
	var withMethod, method []byte
	okA := false
	if m := bytes.LastIndex(val, []byte(", method=")); m >= 0 && bytes.IndexByte(val[m+len(", method="):], ' ') < 0 {
		withMethod, okA = userValue(val[:m], bracket)
		method = val[m+len(", method="):]
	}
	whole, okB := userValue(val, bracket)
	switch {
	case okA && okB:
		e.user, e.method, e.ambiguous = withMethod, method, true
	case okA:
		e.user, e.method = withMethod, method
	case okB:
		e.user = whole
	default:
		return "unterminated user field"
	}
	return ""
}

// userValue returns the user from "<user>" (bracket) or "user" (cPanel-style
// configurations without brackets, which may not contain ", ").
func userValue(val []byte, bracket bool) ([]byte, bool) {
	if bracket {
		if len(val) < 2 || val[len(val)-1] != '>' {
			return nil, false
		}
		return val[1 : len(val)-1], true
	}
	if bytes.Contains(val, []byte(", ")) {
		return nil, false
	}
	return val, true
}

// trailing decodes the elements after rip: ", lip=…, mpid=…, TLS…, session=<…>".
//
// With a user before the rip (userFirst), the rip is only Dovecot's if the
// user really ends before it. On a line without a rip of its own (a login
// over a UNIX socket) a user "x>, rip=6.6.6.6, lip=y" supplies one, and the
// elements that follow show it: the method (which Dovecot logs before rip),
// a repeated element, or an element ending in ">" where the user could end.
// trailing returns why such a line cannot be decoded, or "".
func (e *elems) trailing(rest []byte, userFirst bool) string {
	const suspect = "elements after rip could belong to the user field"
	tlsSeen, mpidSeen := false, false
	for len(rest) > 2 {
		rest = rest[2:] // ", "
		tok := rest
		if j := bytes.Index(rest, []byte(", ")); j >= 0 {
			tok, rest = rest[:j], rest[j:]
		} else {
			rest = nil
		}
		if len(tok) == 0 {
			continue
		}
		switch {
		case bytes.HasPrefix(tok, []byte("lip=")):
			if e.lip != nil {
				if userFirst {
					return suspect
				}
				continue
			}
			e.lip = tok[len("lip="):]
		case bytes.HasPrefix(tok, []byte("mpid=")):
			if mpidSeen && userFirst {
				return suspect
			}
			mpidSeen = true
		case bytes.HasPrefix(tok, []byte("session=<")):
			if e.session != nil {
				if userFirst {
					return suspect
				}
				continue
			}
			if tok[len(tok)-1] == '>' {
				e.session = tok[len("session=<") : len(tok)-1]
			}
		case string(tok) == "secured":
			e.secured = true
		case bytes.HasPrefix(tok, []byte("TLS handshaking")):
			if !tlsSeen {
				e.tls, tlsSeen = TLSNo, true
			}
		case bytes.HasPrefix(tok, []byte("TLS")), bytes.HasPrefix(tok, []byte("TSL")):
			if !tlsSeen {
				e.tls, tlsSeen = TLSYes, true
			}
		case bytes.HasPrefix(tok, []byte("user=")):
			if userFirst {
				return suspect
			}
			// A user after the rip (custom element order): what follows
			// may be the user's text; keep what was read before it.
			if !tlsSeen {
				e.tls = TLSUnknown
			}
			return ""
		case bytes.HasPrefix(tok, []byte("method=")):
			if userFirst {
				return suspect // Dovecot logs the method before the rip
			}
		case userFirst && tok[len(tok)-1] == '>':
			return suspect // the user could end here
		}
	}
	if !tlsSeen {
		e.tls = TLSNo // Dovecot drops the element for plaintext connections
	}
	return ""
}

// lastElem returns the index of the last key in b that starts an element
// (follows ", " or ": "), or -1. It looks from the end byte by byte: the
// elements it is asked for lie near the end of a line.
func lastElem(b []byte, key string) int {
	c := key[0]
	for i := len(b) - len(key); i >= 2; i-- {
		if b[i] == c && b[i-1] == ' ' && (b[i-2] == ',' || b[i-2] == ':') && string(b[i:i+len(key)]) == key {
			return i
		}
	}
	return -1
}

// hasElem reports whether key starts an element anywhere in b: it is
// lastElem(b, key) >= 0, searching from the start at memchr speed.
func hasElem(b []byte, key string) bool {
	for i := 0; i < len(b); i++ {
		j := bytes.Index(b[i:], []byte(key))
		if j < 0 {
			return false
		}
		i += j
		if i >= 2 && b[i-1] == ' ' && (b[i-2] == ',' || b[i-2] == ':') {
			return true
		}
	}
	return false
}

// lastGroup returns the inside of the parenthesised group that ends b
// (nested parentheses allowed) and the index of its "(".
func lastGroup(b []byte) ([]byte, int, bool) {
	b = bytes.TrimRight(b, " ")
	if len(b) == 0 || b[len(b)-1] != ')' {
		return nil, 0, false
	}
	depth := 0
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return b[i+1 : len(b)-1], i, true
			}
		}
	}
	return nil, 0, false
}

// reasons returns the human reason "(auth failed, 1 attempts in 2 secs)" and
// the 2.4 event reason "(auth_failed)" at the end of a login message.
func reasons(msg []byte) (human, event []byte) {
	g, at, ok := lastGroup(msg)
	if !ok {
		return nil, nil
	}
	if isEventReason(g) {
		event = g
		if g2, _, ok := lastGroup(msg[:at]); ok {
			return g2, event
		}
		return nil, event
	}
	return g, nil
}

// isEventReason reports whether g looks like a 2.4 event reason: [a-z0-9_]+.
func isEventReason(g []byte) bool {
	if len(g) == 0 {
		return false
	}
	for _, c := range g {
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// failurePrefixes are the reasons (2.0–2.4, logformats.md §2.3) that mean
// the credentials or the policy were rejected. Every other reason is an
// abort: no auth attempt, client gave up, temporary or internal failure,
// TLS or certificate problems, proxy destination trouble, shutdown.
// "sent invalid base64 in response" is an abort too: no credential verdict.
var failurePrefixes = [...]string{
	"auth failed",
	"authorization failed",
	"user disabled",
	"password expired",
	"tried to use ", // disabled/disallowed plaintext/cleartext auth, unsupported auth mechanism
	"login disabled",
	"proxy dest auth failed",
	"proxy dest authentication failure",
	"anonymous logins disabled",
}

// failureEvents are the 2.4 event reasons of failures, used when the human
// reason is not known.
var failureEvents = [...]string{
	"auth_failed", "authz_failed", "user_disabled", "password_expired", "login_disabled",
	"invalid_mech", "cleartext_auth_disabled", "anonymous_auth_disabled", "proxy_dest_auth_failed",
}

// classify maps the reasons of an ended connection to a Result, and reports
// the connection-limit case (authenticated, then refused).
func classify(human, event []byte) (Result, bool) {
	if bytes.HasPrefix(human, []byte("connection limit reached")) || string(event) == "connection_limit" {
		return Aborted, true
	}
	for _, s := range failurePrefixes {
		if bytes.HasPrefix(human, []byte(s)) {
			return Failure, false
		}
	}
	for _, s := range failureEvents {
		if string(event) == s {
			return Failure, false
		}
	}
	// Dovecot 1.x: "Aborted login (1 authentication attempts)": the client
	// gave up after failed attempts (a success would have logged Login:).
	if i := bytes.Index(human, []byte(" authentication attempts")); i > 0 && numberBefore(human, i) > 0 {
		return Failure, false
	}
	return Aborted, false
}

// attempts returns N from "N attempts", "N authentication attempts" or
// "K/N successful auths", 0 if the reason has none.
func attempts(h []byte) int {
	for _, s := range [...]string{" attempts", " authentication attempts", " successful auths"} {
		if i := bytes.Index(h, []byte(s)); i > 0 {
			if n := numberBefore(h, i); n > 0 {
				return n
			}
		}
	}
	return 0
}

// numberBefore returns the decimal number that ends at b[i], or -1.
func numberBefore(b []byte, i int) int {
	j := i
	for j > 0 && isDigit(b[j-1]) && i-j < 9 {
		j--
	}
	if j == i {
		return -1
	}
	n := 0
	for _, c := range b[j:i] {
		n = n*10 + int(c-'0')
	}
	return n
}

// upper returns b in ASCII upper case, without allocating for the usual
// mechanisms.
func upper(b []byte) string {
	switch string(b) {
	case "PLAIN":
		return "PLAIN"
	case "LOGIN":
		return "LOGIN"
	case "XOAUTH2":
		return "XOAUTH2"
	case "OAUTHBEARER":
		return "OAUTHBEARER"
	case "CRAM-MD5":
		return "CRAM-MD5"
	case "SCRAM-SHA-1":
		return "SCRAM-SHA-1"
	case "SCRAM-SHA-256":
		return "SCRAM-SHA-256"
	case "EXTERNAL":
		return "EXTERNAL"
	case "":
		return ""
	}
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			u := make([]byte, len(b))
			copy(u, b)
			for j := i; j < len(u); j++ {
				if 'a' <= u[j] && u[j] <= 'z' {
					u[j] -= 'a' - 'A'
				}
			}
			return string(u)
		}
	}
	return string(b)
}
