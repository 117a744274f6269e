package parse

import "bytes"

// MailProgram reports whether line was logged by Dovecot or Postfix (any
// Postfix program, not only smtpd), judged by its framing only: the syslog
// ident (dovecot, dovecot-auth, postfix[-instance]/…), the journald
// SYSLOG_IDENTIFIER and _SYSTEMD_UNIT, or a Dovecot process name at the
// start of a line of Dovecot's own log file. It returns the program as
// framed ("dovecot" for Dovecot's own file). It is meant to tell a log of
// the mail programs from the wrong file, or from a Dovecot whose ident was
// changed (instance_name), which Parse ignores line by line; it works on
// the first bytes of a line too (the head of a skipped over-long line).
// MailProgram does not retain line.
func (p *Parser) MailProgram(line []byte) (string, bool) {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return "", false
	}
	if line[0] == '{' {
		return p.journalProgram(line)
	}
	var f frame
	if !p.frame(line, &f) {
		return "", false
	}
	if f.own {
		if dovecotProcess(f.msg) {
			return "dovecot", true
		}
		return "", false
	}
	if mailIdent(f.program) {
		return string(f.program), true
	}
	if string(f.program) == "log" && bytes.HasPrefix(f.msg, []byte("(libdovecot")) {
		return "dovecot", true
	}
	return "", false
}

// journalProgram is MailProgram for a journald JSON record. A record cut
// short (the head of an over-long line) counts when it names Dovecot or
// Postfix at all: failing closed is the point there.
func (p *Parser) journalProgram(line []byte) (string, bool) {
	var j journal
	p.jbuf = p.jbuf[:0]
	if !p.scanJournal(line, &j) {
		if bytes.Contains(line, []byte(`"dovecot`)) || bytes.Contains(line, []byte(`"postfix`)) {
			return "journal", true
		}
		return "", false
	}
	ident := j.ident
	if !ident.ok {
		ident = j.comm
	}
	if comm := p.jbytes(j.comm); string(comm) == "logger" || string(comm) == "systemd-cat" {
		return "", false
	}
	prog := p.jbytes(ident)
	if !mailIdent(prog) {
		return "", false
	}
	unit := p.jbytes(j.unit)
	if j.unit.ok && !bytes.HasPrefix(unit, []byte("dovecot")) && !bytes.HasPrefix(unit, []byte("postfix")) {
		return "", false
	}
	return string(prog), true
}

// mailIdent reports whether a syslog ident is Dovecot's or a Postfix
// program's: "dovecot", "dovecot-auth", "postfix/qmgr",
// "postfix-out/smtpd", "postfix" (postlog).
func mailIdent(prog []byte) bool {
	if dovecotIdent(prog) || string(prog) == "postfix" {
		return true
	}
	rest, ok := postfixServices(prog)
	return ok && len(rest) > 0 && serviceNames(rest)
}

// dovecotProcess reports whether msg, a line of Dovecot's own log file
// after its time stamp, starts with a Dovecot process: "imap-login: ",
// "auth: ", "imap(alice)<…>: ", "master: ", "lmtp(…): ".
func dovecotProcess(msg []byte) bool {
	i := bytes.IndexAny(msg, ":(")
	if i <= 0 {
		return false
	}
	w := msg[:i]
	if bytes.HasSuffix(w, []byte("-login")) && isWord(w[:len(w)-len("-login")]) {
		return true
	}
	switch string(w) {
	case "imap", "pop3", "lmtp", "submission", "managesieve", "auth", "auth-worker", "master",
		"config", "dict", "indexer", "indexer-worker", "anvil", "log", "stats", "lda", "doveadm",
		"quota-status", "replicator", "aggregator", "director", "imap-hibernate", "dovecot":
		return true
	}
	return false
}
