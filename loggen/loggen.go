// Package loggen writes deterministic, realistic mail-server syslog for
// benchmarks and demos: mostly Postfix and Dovecot bookkeeping lines, with
// Dovecot 2.3 and 2.4 logins, failures and aborts and Postfix SASL successes
// and failures mixed in, from a few users on IPv4, IPv6 and v4-mapped
// addresses (Microsoft's 52.98.x and 52.125.x among them).
//
// WriteDay writes a scenario day instead: legitimate users' devices,
// offices and cloud intermediaries next to brute force, sprays and a
// compromise, and returns a Truth that says which is which, so detection
// rules can be scored against it.
package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// A Generator produces log lines. The same seed and start give the same
// lines. A Generator is not safe for concurrent use.
type Generator struct {
	r    *rand.Rand
	t    time.Time
	host string
	qid  uint32
	pid  int
}

// New returns a Generator whose first line is stamped at start.
func New(seed int64, start time.Time) *Generator {
	return &Generator{
		r:    rand.New(rand.NewPCG(uint64(seed), 0x6d61696c61756469)),
		t:    start,
		host: "mx1",
		qid:  0x3F2A10,
		pid:  20000,
	}
}

var (
	users   = []string{"alice@example.org", "bob@example.org", "carol@example.org", "dave@example.net", "erin@example.net", "info@example.org"}
	guesses = []string{"admin", "test", "info@example.org", "postmaster@example.org", "root", "webmaster", "sales@example.org", "user1"}
	// Devices of the users, Microsoft intermediaries, hosting networks.
	good  = []string{"203.0.113.45", "198.51.100.23", "2001:db8:4a2::17", "::ffff:203.0.113.77", "52.98.204.101", "52.125.139.7", "52.125.141.22", "192.168.1.20", "2a01:111:f400::5"}
	bad   = []string{"185.220.101.4", "45.155.205.233", "141.98.11.27", "2a03:b0c0:3:d0::1f:6001", "80.94.95.115", "193.32.162.70"}
	peers = []string{"mail-ej1-f48.google.com[209.85.218.48]", "mail.example.com[192.0.2.25]", "unknown[45.155.205.233]", "mx.ionos.de[212.227.15.41]", "a1-2.smtp-out.amazonses.com[54.240.1.2]", "mail-db8eur05on2070.outbound.protection.outlook.com[40.107.20.70]"}
)

func (g *Generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *Generator) session() string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b [16]byte
	for i := range b {
		b[i] = b64[g.r.IntN(64)]
	}
	return string(b[:])
}

func (g *Generator) queueID() string {
	g.qid += uint32(1 + g.r.IntN(7))
	return fmt.Sprintf("%X", g.qid)
}

// line returns one message (without the syslog prefix) and its ident.
func (g *Generator) line() (ident, msg string) {
	smtpd := fmt.Sprintf("postfix/smtpd[%d]", g.pid+g.r.IntN(50))
	sub := fmt.Sprintf("postfix/submission/smtpd[%d]", g.pid+g.r.IntN(50))
	dove := "dovecot"
	svc := [...]string{"imap", "imap", "imap", "pop3", "submission"}[g.r.IntN(5)]
	user := g.pick(users)
	local := "198.51.100.25"
	switch n := g.r.IntN(1000); {
	// ~88 % bookkeeping.
	case n < 120:
		return smtpd, "connect from " + g.pick(peers)
	case n < 240:
		return smtpd, "disconnect from " + g.pick(peers) + " ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
	case n < 300:
		return smtpd, fmt.Sprintf("Anonymous TLS connection established from %s: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256", g.pick(peers))
	case n < 360:
		return smtpd, g.queueID() + ": client=" + g.pick(peers)
	case n < 400:
		return smtpd, fmt.Sprintf("NOQUEUE: reject: RCPT from %s: 554 5.7.1 <spam@example.com>: Relay access denied; from=<x@example.net> to=<spam@example.com> proto=ESMTP helo=<WIN-%04d>", g.pick(peers), g.r.IntN(10000))
	case n < 480:
		return "postfix/cleanup[" + fmt.Sprint(g.pid+100) + "]", g.queueID() + ": message-id=<" + g.session() + "@example.org>"
	case n < 580:
		return "postfix/qmgr[812]", fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=1 (queue active)", g.queueID(), user, 1000+g.r.IntN(90000))
	case n < 660:
		return "postfix/smtp[" + fmt.Sprint(g.pid+200) + "]", fmt.Sprintf("%s: to=<someone@example.com>, relay=mx.example.com[192.0.2.30]:25, delay=0.%d, delays=0.01/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xy%d)", g.queueID(), g.r.IntN(99), g.r.IntN(99999))
	case n < 740:
		return "postfix/lmtp[" + fmt.Sprint(g.pid+300) + "]", fmt.Sprintf("%s: to=<%s>, relay=mail.example.org[private/dovecot-lmtp], delay=0.1, delays=0.04/0/0.01/0.05, dsn=2.0.0, status=sent (250 2.0.0 <%s> Saved)", g.queueID(), user, user)
	case n < 780:
		return "postfix/qmgr[812]", g.queueID() + ": removed"
	case n < 860:
		return dove, fmt.Sprintf("imap(%s)<%d><%s>: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0", user, 30000+g.r.IntN(9000), g.session(), g.r.IntN(5000), g.r.IntN(900000))
	case n < 880:
		return dove, fmt.Sprintf("lmtp(%s)<%d><%s>: msgid=<%s@example.net>: saved mail to INBOX", user, 31000+g.r.IntN(900), g.session(), g.session())
	// ~12 % logins and auth.
	case n < 920:
		verb := "Login"
		if g.r.IntN(2) == 0 {
			verb = "Logged in"
		}
		return dove, fmt.Sprintf("%s-login: %s: user=<%s>, method=PLAIN, rip=%s, lip=%s, mpid=%d, TLS, session=<%s>", svc, verb, user, g.pick(good), local, 30000+g.r.IntN(9000), g.session())
	case n < 945:
		return dove, fmt.Sprintf("%s-login: Disconnected: Connection closed (auth failed, %d attempts in %d secs): user=<%s>, method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>", svc, 1+g.r.IntN(3), g.r.IntN(20), g.pick(guesses), g.pick(bad), local, g.session())
	case n < 955:
		return dove, fmt.Sprintf("%s-login: Login aborted: Connection closed (auth failed, %d attempts in %d secs) (auth_failed): user=<%s>, method=LOGIN, rip=%s, lip=%s, TLS, session=<%s>", svc, 1+g.r.IntN(3), g.r.IntN(20), g.pick(guesses), g.pick(bad), local, g.session())
	case n < 965:
		return dove, fmt.Sprintf("%s-login: Disconnected: Connection closed (no auth attempts in %d secs): user=<>, rip=%s, lip=%s, TLS handshaking: SSL_accept() failed: error:0A000126:SSL routines::unexpected eof while reading, session=<%s>", svc, g.r.IntN(60), g.pick(bad), local, g.session())
	case n < 970:
		return dove, fmt.Sprintf("auth-worker(%d): conn unix:auth-worker (pid=%d,uid=97): auth-worker<%d>: sql(%s,%s,<%s>): unknown user", 4000+g.r.IntN(100), 3999, g.r.IntN(50), g.pick(guesses), g.pick(bad), g.session())
	case n < 985:
		return smtpd, fmt.Sprintf("warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=%s", g.pick(bad), g.pick(guesses))
	default:
		return sub, fmt.Sprintf("%s: client=%s, sasl_method=PLAIN, sasl_username=%s", g.queueID(), "unknown["+g.pick(good)+"]", user)
	}
}

// WriteLines writes n lines to w.
func (g *Generator) WriteLines(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for range n {
		g.t = g.t.Add(time.Duration(g.r.IntN(1500)) * time.Millisecond)
		ident, msg := g.line()
		// RFC 3164: space-padded day, no year.
		if _, err := fmt.Fprintf(bw, "%s %s %s: %s\n", g.t.Format(time.Stamp), g.host, ident, msg); err != nil {
			return err
		}
	}
	return bw.Flush()
}
