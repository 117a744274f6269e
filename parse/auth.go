package parse

import (
	"bytes"
	"net/netip"
)

// authMarkers start the auth-process messages that report a failed
// credential check (logformats.md §3). Other auth messages (lookups,
// userdb, errors) are not events.
var authMarkers = [...]string{
	": unknown user",
	": Password mismatch",
	": invalid credentials",
	": pam_authenticate() failed: ",
	": Username character disallowed",
}

// auth decodes a Dovecot auth-process line, 2.x/2.3
// "auth[-worker(N)]: [Info: ][conn unix:auth-worker (…): auth-worker<N>: ]passdb(user,ip[,…]): msg"
// or 2.4 "auth(user,ip,sasl:mech)<session>: [Info: ]passdb: msg" and
// "auth-worker(user,ip)<pid><session>: request [N]: [Info: ]passdb: msg",
// into a KindAuth detail event.
//
// The user (left of the message) and a logged password (right of it) are
// both attacker-chosen, so a line must hold exactly one failure message
// and at most one password mark, after the message; otherwise it is
// Malformed. The password and everything after it is dropped.
func (p *Parser) auth(f *frame, msg []byte) (Event, Status) {
	k, n := -1, 0
	for _, m := range authMarkers {
		if c := bytes.Count(msg, []byte(m)); c > 0 {
			n += c
			k = bytes.Index(msg, []byte(m))
		}
	}
	if n == 0 {
		return Event{}, Ignored
	}
	ev := p.base(f, KindAuth)
	if n > 1 {
		return malformed(ev, "ambiguous auth line")
	}
	left, text := msg[:k], msg[k+2:]
	a, ok := authPrefix(left)
	if !ok {
		return Event{}, Ignored
	}
	if a.ip == nil {
		return Event{}, Ignored // IP-less: a userdb/passdb lookup, not a login attempt
	}
	addr, err := netip.ParseAddr(string(a.ip))
	if err != nil {
		return Event{}, Ignored // no IP: the last field was part of an IP-less name
	}
	if bytes.Contains(left, []byte("given password")) || bytes.Count(text, []byte("given password")) > 1 {
		return malformed(ev, "ambiguous auth line")
	}
	// The reason: the message up to a logged password, "(given password: …)"
	// or "(SHA1 of given password: …)", or a passdb chaining note.
	reason := text
	var hash []byte
	if i := bytes.Index(reason, []byte("SHA1 of given password: ")); i >= 0 {
		hash = passwordHash(reason[i+len("SHA1 of given password: "):])
	}
	if i := bytes.Index(reason, []byte("given password")); i >= 0 {
		reason = bytes.TrimSuffix(bytes.TrimSuffix(reason[:i], []byte("SHA1 of ")), []byte("("))
		// A logged password closes the line: "(given password: …)", maybe
		// followed by " - trying the next passdb". A mark the user put in
		// front of Dovecot's own ",<ip>): <message>" does not.
		if !bytes.HasSuffix(bytes.TrimSuffix(text, []byte(" - trying the next passdb")), []byte(")")) {
			return malformed(ev, "ambiguous auth line")
		}
	}
	if i := bytes.Index(reason, []byte(" - trying the next passdb")); i >= 0 {
		reason = reason[:i]
	}
	reason = bytes.TrimSpace(reason)
	// The failure message is Dovecot's own text. If the marker was the
	// user's ("x,6.6.6.6): unknown user"), the rest of the prefix follows
	// it: ",<ip>): " (2.x) or ",<ip>,sasl:…)<session>: " (2.4).
	check := reason
	if i := bytes.Index(check, []byte(" (username: ")); i >= 0 && bytes.HasPrefix(check, []byte("Username character disallowed")) {
		check = check[:i] // the raw name that follows is logged as sent
	}
	if bytes.Contains(check, []byte("): ")) || bytes.Contains(check, []byte(")<")) {
		return malformed(ev, "ambiguous auth line")
	}

	user := a.user
	if raw, ok := bytes.CutPrefix(reason, []byte("Username character disallowed")); ok {
		// "… by auth_username_chars: 0x2c (username: <raw>)": the prefix has "?".
		if i := bytes.Index(raw, []byte(" (username: ")); i >= 0 {
			user = bytes.TrimSuffix(raw[i+len(" (username: "):], []byte(")"))
			reason = reason[:len("Username character disallowed")+i]
		}
	}
	ev.Result = Failure
	ev.User, ev.HasUser = string(user), true
	ev.RemoteIP, ev.Addr = string(a.ip), addr
	ev.Method = upper(a.mech)
	ev.Session = string(a.session)
	ev.Reason = string(reason)
	if len(hash) > 0 {
		ev.PasswordHash = string(hash)
	}
	return ev, Parsed
}

// passwordHash returns the hex digits that open b, lower-cased, when
// they are 4 to 40 of them closed by ")"; nil otherwise.
func passwordHash(b []byte) []byte {
	n := 0
	for n < len(b) && n <= 40 && isHex(b[n]) {
		n++
	}
	if n < 4 || n > 40 || n >= len(b) || b[n] != ')' {
		return nil
	}
	return bytes.ToLower(b[:n])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// authArgs is the decoded "(user,ip,…)" of an auth log prefix.
type authArgs struct {
	user, ip, mech, session []byte
}

// authPrefix decodes what precedes ": <failure message>".
func authPrefix(left []byte) (authArgs, bool) {
	var a authArgs
	if len(left) == 0 {
		return a, false
	}
	if left[len(left)-1] == ')' {
		// 2.x/2.3: the args close the prefix; the trusted text before
		// "passdb(" is read from the left.
		s := left
		switch {
		case bytes.HasPrefix(s, []byte("auth: ")):
			s = s[len("auth: "):]
		case bytes.HasPrefix(s, []byte("dovecot-auth: ")):
			s = s[len("dovecot-auth: "):]
		case bytes.HasPrefix(s, []byte("auth-worker(")), bytes.HasPrefix(s, []byte("auth(")):
			i := bytes.IndexByte(s, ')')
			if i < 0 || !bytes.HasPrefix(s[i:], []byte("): ")) {
				return a, false
			}
			s = s[i+3:]
		default:
			return a, false
		}
		s, _ = stripLevel(s)
		if rest, ok := bytes.CutPrefix(s, []byte("conn unix:")); ok {
			i := bytes.Index(rest, []byte("): auth-worker<"))
			if i < 0 {
				return a, false
			}
			rest = rest[i+len("): auth-worker<"):]
			j := bytes.Index(rest, []byte(">: "))
			if j < 0 {
				return a, false
			}
			s, _ = stripLevel(rest[j+3:])
		}
		i := bytes.IndexByte(s, '(')
		if i <= 0 || !isDBName(s[:i]) {
			return a, false
		}
		return a, a.args(s[i+1 : len(s)-1])
	}
	// 2.4: "auth(args)<session>: [request [N]: ][Info: ]passdb", read from the right.
	i := bytes.LastIndex(left, []byte(": "))
	if i < 0 || !isDBName(left[i+2:]) {
		return a, false
	}
	r := bytes.TrimSuffix(left[:i], []byte(": Info"))
	if j := bytes.LastIndex(r, []byte(": request [")); j >= 0 && r[len(r)-1] == ']' {
		r = r[:j]
	}
	for len(r) > 0 && r[len(r)-1] == '>' {
		j := bytes.LastIndexByte(r, '<')
		if j < 0 {
			return a, false
		}
		if a.session == nil {
			a.session = r[j+1 : len(r)-1] // the last group is the session, before it the pid
		}
		r = r[:j]
	}
	if len(r) == 0 || r[len(r)-1] != ')' {
		return a, false
	}
	var args []byte
	switch {
	case bytes.HasPrefix(r, []byte("auth(")):
		args = r[len("auth(") : len(r)-1]
	case bytes.HasPrefix(r, []byte("auth-worker(")):
		args = r[len("auth-worker(") : len(r)-1]
	default:
		return a, false
	}
	return a, a.args(args)
}

// args decodes "user,ip[,sasl:mech][,master][,<session>]" from the right:
// everything after the user is Dovecot's own, the user may hold commas.
func (a *authArgs) args(b []byte) bool {
	for {
		i := bytes.LastIndexByte(b, ',')
		if i < 0 {
			return true // no IP
		}
		tok := b[i+1:]
		switch {
		case len(tok) == 0, string(tok) == "master":
		case tok[0] == '<' && tok[len(tok)-1] == '>':
			if a.session == nil {
				a.session = tok[1 : len(tok)-1]
			}
		case bytes.HasPrefix(tok, []byte("sasl:")):
			a.mech = tok[len("sasl:"):]
		default:
			a.user, a.ip = b[:i], tok
			return true
		}
		b = b[:i]
	}
}

// isDBName reports whether b is a passdb driver or mechanism name.
func isDBName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pam decodes "pam_unix(dovecot:auth): authentication failure; logname= uid=0
// euid=0 tty=dovecot ruser=<login> rhost=<ip>[  user=<user>]". ruser and user
// are both the attacker-chosen login name, so the rhost= that counts is the
// only one whose value is followed by the end of the line or by "user=";
// with more than one such the line is Malformed.
func (p *Parser) pam(f *frame, msg []byte) (Event, Status) {
	i := bytes.Index(msg, []byte("): authentication failure; "))
	if i < 0 || !bytes.Contains(msg[:i], []byte("(dovecot")) {
		return Event{}, Ignored
	}
	ev := p.base(f, KindAuth)
	ru := bytes.Index(msg, []byte(" ruser="))
	if ru < 0 {
		return Event{}, Ignored
	}
	tail := msg[ru+len(" ruser="):]
	at, n := -1, 0
	var host, after []byte
	for off := 0; ; {
		j := bytes.Index(tail[off:], []byte(" rhost="))
		if j < 0 {
			break
		}
		j += off
		off = j + 1
		v := tail[j+len(" rhost="):]
		rest := []byte(nil)
		if sp := bytes.IndexByte(v, ' '); sp >= 0 {
			v, rest = v[:sp], v[sp:]
		}
		if rest != nil && !bytes.HasPrefix(bytes.TrimLeft(rest, " "), []byte("user=")) {
			continue
		}
		at, host, after, n = j, v, rest, n+1
	}
	if n > 1 {
		return malformed(ev, "ambiguous PAM line")
	}
	if n == 0 || len(host) == 0 {
		return Event{}, Ignored // IP-less
	}
	addr, err := netip.ParseAddr(string(host))
	if err != nil {
		return malformed(ev, "rhost is not an IP address")
	}
	user := tail[:at]
	if len(user) == 0 && after != nil {
		user = bytes.TrimPrefix(bytes.TrimLeft(after, " "), []byte("user="))
	}
	ev.Result = Failure
	ev.User, ev.HasUser = string(user), len(user) > 0
	ev.RemoteIP, ev.Addr = string(host), addr
	ev.Reason = "authentication failure"
	return ev, Parsed
}
