// Package parse decodes Dovecot and Postfix log lines into login and
// authentication events. It knows log formats only: framings (syslog,
// RFC 5424, journald, Dovecot's and Postfix's own files) and the message
// shapes of the login processes, the auth process and Postfix smtpd. It does
// no I/O, no address classification and no detection.
package parse

import (
	"net/netip"
	"time"
)

// Kind says which process a login or authentication event was read from.
type Kind uint8

// The kinds of events.
const (
	// KindLogin is a Dovecot login-process line (imap-login, pop3-login,
	// submission-login, managesieve-login). It is the authoritative record
	// of one connection's authentication attempts.
	KindLogin Kind = iota + 1
	// KindAuth is a Dovecot auth-process or PAM line. It only adds detail
	// (unknown user, password mismatch) to a login line of the same attempt
	// and must never be counted in addition to it.
	KindAuth
	// KindSASL is a Postfix smtpd SASL line.
	KindSASL
	// KindClient is a Dovecot imap_id_log line ("imap-login: ID sent:
	// name=Thunderbird, …"): the client program a connection named, in
	// Client. It is detail, not an attempt: its Result is zero and it must
	// never be counted as a login.
	KindClient
)

// String returns the contract name of k: "login", "auth", "sasl" or
// "client".
func (k Kind) String() string {
	switch k {
	case KindLogin:
		return "login"
	case KindAuth:
		return "auth"
	case KindSASL:
		return "sasl"
	case KindClient:
		return "client"
	}
	return ""
}

// Result is the outcome of an authentication attempt.
type Result uint8

// The results. The zero Result is not valid in an Event, except in one of
// KindClient, which records no attempt.
const (
	// Success means the credentials were accepted.
	Success Result = iota + 1
	// Failure means the credentials (or the policy) were rejected.
	Failure
	// Aborted means the attempt ended without a credential verdict:
	// the client gave up, timed out, or the auth service failed.
	Aborted
)

// String returns the contract name of r: "success", "failure" or "aborted".
func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Aborted:
		return "aborted"
	}
	return ""
}

// TLS says whether a connection was encrypted, as far as its line tells.
type TLS uint8

// The TLS states. The zero value means the line cannot tell.
const (
	TLSUnknown TLS = iota
	TLSYes
	TLSNo
)

// Event is one login or authentication record decoded from one log line.
// Event is comparable, so tests may use ==.
//
// String fields hold text as logged, except where noted; they are never
// sanitized for display: that is the renderer's job.
type Event struct {
	// Time is the line's timestamp, in the zone the line gives or in the
	// Parser's Location for zone-less stamps. Zero when the line has none.
	Time time.Time
	// Host is the syslog host name, empty when the framing has none.
	Host string
	// Program is the logging program as framed, e.g. "dovecot",
	// "postfix/submission/smtpd".
	Program string
	Kind    Kind
	// Service is "imap", "pop3", "submission", "managesieve", "smtp",
	// or empty when unknown.
	Service string
	Result  Result
	// User is exactly the bytes between "user=<" and the real closing ">"
	// (or the sasl_username); HasUser is false when the line has no user.
	User    string
	HasUser bool
	// RemoteIP is the client address as logged (rip=, Postfix [addr]).
	RemoteIP string
	// Addr is RemoteIP parsed; always valid in an Event Parse returns with
	// a Kind of KindLogin, KindSASL or KindClient.
	Addr netip.Addr
	// LocalIP is lip= as logged, empty when absent.
	LocalIP string
	TLS     TLS
	// Secured reports Dovecot's "secured" element: a loopback or
	// login_trusted_networks connection. It is not TLS.
	Secured bool
	// Method is the SASL mechanism, upper case, empty when unknown.
	Method string
	// Session is Dovecot's session=<…> id, or Postfix's "smtpd[pid]" key.
	Session string
	// Attempts is the N of "N attempts", 0 when the line does not say.
	Attempts int
	// PasswordHash is the short hex SHA1 of the wrong password that
	// Dovecot's auth_verbose_passwords = sha1[:N] logs on an auth detail
	// line ("(SHA1 of given password: 21bd12)"), lower case; empty
	// otherwise. A signal for the rules (one repeated hash is a device
	// with an old password, many are guessing): never output.
	PasswordHash string
	// Reason is the logged reason of a failure or abort, with any logged
	// password removed.
	Reason string
	// Refused reports that authentication succeeded but the login was
	// refused anyway (e.g. the per-user connection limit).
	Refused bool
	// Client is the name= value of a KindClient event's ID text, with
	// control and non-ASCII bytes replaced by '?', at most MaxClient
	// bytes; empty for every other kind. It is client-chosen text.
	Client string
	// File and Line locate the line: the caller that reads files sets them;
	// Parse leaves them empty. Line is 1-based within its file.
	File string
	Line int
}

// Status is what Parse made of one line.
type Status uint8

// The statuses.
const (
	// Ignored means the line carries no login or authentication: the
	// common case, not an error.
	Ignored Status = iota
	// Parsed means the line yielded an Event.
	Parsed
	// Malformed means the line looks like a login or authentication line
	// from a trusted program but cannot be decoded unambiguously. It yields
	// no Event and must be counted and shown, never taken at face value.
	Malformed
)
