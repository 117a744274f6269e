package loggen

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// dayWriter renders planned lines and bookkeeping noise.
type dayWriter struct {
	r       *rand.Rand
	start   time.Time
	host    string
	names   []string
	lastSec int64
	prefix  []byte // "Mar  2 06:00:00 mx1 " of lastSec
	qid     uint64
	buf     []byte
}

// write renders d to w. hook, if not nil, sees every line (without its
// newline) with the planned line it came from, nil for bookkeeping noise.
func (d *day) write(w io.Writer, hook func(line []byte, r *rec)) (*Truth, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	g := &dayWriter{
		r:       rand.New(rand.NewPCG(uint64(d.cfg.Seed), 0x6461797772697465)),
		start:   d.cfg.Start,
		host:    d.cfg.Host,
		names:   d.names,
		lastSec: -1,
		qid:     0x4F2A1C3B00,
		buf:     make([]byte, 0, 512),
	}
	noise := max(0, d.cfg.Lines-len(d.recs))
	dur := float64(d.cfg.Duration)
	// Noise line i is stamped at a random point of the i-th of noise equal
	// slices of the day: exactly noise lines, in order.
	nextNoise := func(i int) int64 {
		return int64((float64(i) + g.r.Float64()) / float64(noise) * dur)
	}
	lines := 0
	i, j := 0, 0
	var nt int64
	if noise > 0 {
		nt = nextNoise(0)
	}
	for i < noise || j < len(d.recs) {
		var r *rec
		if j < len(d.recs) && (i >= noise || d.recs[j].at <= nt) {
			r = &d.recs[j]
			j++
			g.plan(r)
		} else {
			g.noise(nt)
			i++
			if i < noise {
				nt = nextNoise(i)
			}
		}
		if hook != nil {
			hook(g.buf, r)
		}
		g.buf = append(g.buf, '\n')
		if _, err := bw.Write(g.buf); err != nil {
			return nil, err
		}
		lines++
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	t := *d.truth
	t.Lines = lines
	return &t, nil
}

// head starts a line at offset at with ident (and pid when > 0).
func (g *dayWriter) head(at int64, ident string, pid int64) {
	if sec := at / int64(time.Second); sec != g.lastSec {
		g.lastSec = sec
		g.prefix = g.start.Add(time.Duration(sec)*time.Second).AppendFormat(g.prefix[:0], time.Stamp)
		g.prefix = append(g.prefix, ' ')
		g.prefix = append(g.prefix, g.host...)
		g.prefix = append(g.prefix, ' ')
	}
	g.buf = append(g.buf[:0], g.prefix...)
	g.buf = append(g.buf, ident...)
	if pid > 0 {
		g.buf = append(g.buf, '[')
		g.buf = strconv.AppendInt(g.buf, pid, 10)
		g.buf = append(g.buf, ']')
	}
	g.buf = append(g.buf, ": "...)
}

func (g *dayWriter) s(parts ...string) {
	for _, p := range parts {
		g.buf = append(g.buf, p...)
	}
}

func (g *dayWriter) num(n int) { g.buf = strconv.AppendInt(g.buf, int64(n), 10) }

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// session appends a 16-character Dovecot session id.
func (g *dayWriter) session() {
	a, b := g.r.Uint64(), g.r.Uint64()
	for range 8 {
		g.buf = append(g.buf, b64[a&63], b64[b&63])
		a >>= 6
		b >>= 6
	}
}

// queueID appends a Postfix queue id.
func (g *dayWriter) queueID() {
	g.qid += 1 + uint64(g.r.IntN(9))
	const hex = "0123456789ABCDEF"
	for sh := 36; sh >= 0; sh -= 4 {
		g.buf = append(g.buf, hex[g.qid>>sh&15])
	}
}

var dovecotSvc = [...]string{svcIMAP: "imap", svcPOP3: "pop3"}

var smtpdIdent = [...]string{svcSMTP: "postfix/smtpd", svcSubmission: "postfix/submission/smtpd", svcSMTPS: "postfix/smtps/smtpd"}

func lip(addr string) string {
	switch {
	case addr == "127.0.0.1":
		return "127.0.0.1"
	case strings.IndexByte(addr, ':') >= 0:
		return "2001:db8:25::25"
	}
	return "198.51.100.25"
}

func clientName(addr string) string {
	if addr == "127.0.0.1" {
		return "localhost"
	}
	return "unknown"
}

// dovecotTail appends ", rip=…, lip=…[, mpid=…], TLS|secured, session=<…>".
func (g *dayWriter) dovecotTail(addr string, mpid bool) {
	g.s(", rip=", addr, ", lip=", lip(addr))
	if mpid {
		g.s(", mpid=")
		g.num(20000 + g.r.IntN(40000))
	}
	if addr == "127.0.0.1" {
		g.s(", secured, session=<")
	} else {
		g.s(", TLS, session=<")
	}
	g.session()
	g.s(">")
}

// plan renders a planned line into g.buf.
func (g *dayWriter) plan(r *rec) {
	switch r.op {
	case opLogin:
		g.head(r.at, "dovecot", 0)
		g.s(dovecotSvc[r.svc], "-login: Login: user=<", r.user, ">, method=", r.method)
		g.dovecotTail(r.addr, true)
	case opLoginFail:
		g.head(r.at, "dovecot", 0)
		why := [...]string{"Connection closed", "Aborted login by logging out", "Connection closed", "Inactivity during authentication"}[g.r.IntN(4)]
		g.s(dovecotSvc[r.svc], "-login: Disconnected: ", why, " (auth failed, ")
		g.num(int(r.n))
		g.s(" attempts in ")
		g.num(int(r.n)*2 + g.r.IntN(6))
		g.s(" secs): user=<", r.user, ">, method=", r.method)
		g.dovecotTail(r.addr, false)
	case opAuthDetail:
		g.head(r.at, "dovecot", 0)
		g.s("auth-worker(")
		g.num(3000 + g.r.IntN(900))
		g.s("): conn unix:auth-worker (pid=2987,uid=97): auth-worker<")
		g.num(1 + g.r.IntN(30))
		g.s(">: sql(", r.user, ",", r.addr, ",<")
		g.session()
		if r.known {
			g.s(">): Password mismatch")
		} else {
			g.s(">): unknown user")
		}
	case opNoAuth:
		g.head(r.at, "dovecot", 0)
		if g.r.IntN(2) == 0 {
			g.s(dovecotSvc[r.svc], "-login: Disconnected: Connection closed (no auth attempts in 0 secs): user=<>, rip=", r.addr, ", lip=", lip(r.addr),
				", TLS handshaking: SSL_accept() failed: error:0A00010B:SSL routines::wrong version number, session=<")
		} else {
			g.s(dovecotSvc[r.svc], "-login: Disconnected: Inactivity (no auth attempts in 180 secs): user=<>, rip=", r.addr, ", lip=", lip(r.addr), ", TLS, session=<")
		}
		g.session()
		g.s(">")
	case opSASLOK:
		g.head(r.at, smtpdIdent[r.svc], int64(r.pid))
		g.queueID()
		g.s(": client=", clientName(r.addr), "[", r.addr, "], sasl_method=", r.method, ", sasl_username=", r.user)
	case opSASLFail:
		g.head(r.at, smtpdIdent[r.svc], int64(r.pid))
		g.s("warning: unknown[", r.addr, "]: SASL ", r.method, " authentication failed: ")
		switch {
		case r.named:
			g.s("(reason unavailable), sasl_username=", r.user) // Postfix ≥ 3.9
		case g.r.IntN(3) == 0:
			g.s("(reason unavailable), sasl_username=(unavailable)")
		case r.method == "LOGIN":
			g.s("UGFzc3dvcmQ6") // ≤ 3.8, Dovecot SASL
		default:
			// ≤ 3.8 with an empty reply: the line ends in "failed: ".
		}
	case opConnect:
		g.head(r.at, smtpdIdent[r.svc], int64(r.pid))
		g.s("connect from ", clientName(r.addr), "[", r.addr, "]")
	case opDisconnect:
		g.head(r.at, smtpdIdent[r.svc], int64(r.pid))
		g.s("disconnect from ", clientName(r.addr), "[", r.addr, "]")
		if r.n == 1 {
			g.s(" ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8")
		} else {
			g.s(" ehlo=1 auth=0/1 quit=1 commands=2/3")
		}
	case opLost:
		g.head(r.at, smtpdIdent[r.svc], int64(r.pid))
		if g.r.IntN(2) == 0 {
			g.s("lost connection after CONNECT from unknown[", r.addr, "]")
		} else {
			g.s("SSL_accept error from unknown[", r.addr, "]: lost connection")
		}
	}
}

// dayPeers are other mail servers: inbound and outbound SMTP peers.
var dayPeers = []string{
	"mail-ej1-f48.google.com[209.85.218.48]", "mail-wr1-f54.google.com[209.85.221.54]",
	"mail.example.com[192.0.2.25]", "mx.ionos.de[212.227.15.41]", "mout.gmx.net[212.227.17.20]",
	"a1-2.smtp-out.amazonses.com[54.240.1.2]", "mail-db8eur05on2070.outbound.protection.outlook.com[40.107.20.70]",
	"mo4-p00-ob.smtp.rzone.de[85.215.255.20]", "mail.posteo.de[185.67.36.65]", "out.mailchimp.example[198.2.180.12]",
}

var outRelays = []string{"gmail-smtp-in.l.google.com[142.250.102.27]:25", "mx00.ionos.de[217.72.192.77]:25",
	"example-com.mail.protection.outlook.com[52.101.68.10]:25", "mx.example.net[203.0.113.80]:25"}

// noise renders one bookkeeping line at offset at: Postfix and Dovecot
// lines that carry no authentication.
func (g *dayWriter) noise(at int64) {
	user := g.names[g.r.IntN(len(g.names))]
	peer := dayPeers[g.r.IntN(len(dayPeers))]
	pid := int64(30000 + g.r.IntN(900))
	switch n := g.r.IntN(1000); {
	case n < 110:
		g.head(at, "postfix/smtpd", pid)
		g.s("connect from ", peer)
	case n < 220:
		g.head(at, "postfix/smtpd", pid)
		g.s("disconnect from ", peer, " ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=6")
	case n < 270:
		g.head(at, "postfix/smtpd", pid)
		g.s("Anonymous TLS connection established from ", peer, ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256")
	case n < 330:
		g.head(at, "postfix/smtpd", pid)
		g.queueID()
		g.s(": client=", peer)
	case n < 360:
		g.head(at, "postfix/smtpd", pid)
		g.s("NOQUEUE: reject: RCPT from ", peer, ": 450 4.7.1 <", user, ">: Recipient address rejected: Greylisted; from=<newsletter@example.net> to=<", user, "> proto=ESMTP helo=<mx.example.net>")
	case n < 440:
		g.head(at, "postfix/cleanup", pid+100)
		g.queueID()
		g.s(": message-id=<")
		g.session()
		g.s("@mail.example.net>")
	case n < 540:
		g.head(at, "postfix/qmgr", 812)
		g.queueID()
		g.s(": from=<", user, ">, size=")
		g.num(1500 + g.r.IntN(200000))
		g.s(", nrcpt=1 (queue active)")
	case n < 620:
		g.head(at, "postfix/smtp", pid+200)
		g.queueID()
		g.s(": to=<someone@example.net>, relay=", outRelays[g.r.IntN(len(outRelays))], ", delay=0.")
		g.num(10 + g.r.IntN(89))
		g.s(", delays=0.01/0/0.12/0.2, dsn=2.0.0, status=sent (250 2.0.0 OK)")
	case n < 710:
		g.head(at, "postfix/lmtp", pid+300)
		g.queueID()
		g.s(": to=<", user, ">, relay=mail.example.org[private/dovecot-lmtp], delay=0.1, delays=0.04/0/0.01/0.05, dsn=2.0.0, status=sent (250 2.0.0 <", user, "> Saved)")
	case n < 780:
		g.head(at, "postfix/qmgr", 812)
		g.queueID()
		g.s(": removed")
	case n < 820:
		g.head(at, "dovecot", 0)
		g.s("lmtp(", user, ")<")
		g.num(int(pid))
		g.s("><")
		g.session()
		g.s(">: msgid=<")
		g.session()
		g.s("@mail.example.net>: saved mail to INBOX")
	case n < 970:
		g.head(at, "dovecot", 0)
		g.s("imap(", user, ")<")
		g.num(20000 + g.r.IntN(40000))
		g.s("><")
		g.session()
		g.s(">: Logged out in=")
		g.num(g.r.IntN(5000))
		g.s(" out=")
		g.num(g.r.IntN(900000))
		g.s(" deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0")
	default:
		g.head(at, "dovecot", 0)
		g.s("pop3(", user, ")<")
		g.num(20000 + g.r.IntN(40000))
		g.s("><")
		g.session()
		g.s(">: Disconnected: Logged out top=0/0, retr=")
		g.num(g.r.IntN(5))
		g.s("/")
		g.num(g.r.IntN(500000))
		g.s(", del=0/3, size=")
		g.num(g.r.IntN(900000))
	}
}
