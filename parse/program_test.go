package parse

import "testing"

func TestMailProgram(t *testing.T) {
	tests := []struct {
		name, line, prog string
		ok               bool
	}{
		{"dovecot", "Nov 20 10:00:01 mx1 dovecot: imap-login: Login: user=<a>", "dovecot", true},
		{"dovecot pid", "Nov 20 10:00:01 mx1 dovecot[12]: master: Dovecot started", "dovecot", true},
		{"postfix qmgr", "Nov 20 10:00:01 mx1 postfix/qmgr[988]: 4Xk2: removed", "postfix/qmgr", true},
		{"postfix instance", "Nov 20 10:00:01 mx1 postfix-out/submission/smtpd[9]: connect from x", "postfix-out/submission/smtpd", true},
		{"rfc3339", "2026-11-20T10:00:01.123+01:00 mx1 postfix/smtpd[9]: connect from x", "postfix/smtpd", true},
		{"dovecot own file", "Nov 20 10:00:01 imap-login: Info: Login: user=<a>", "dovecot", true},
		{"dovecot own file mail process", "2026-11-20 10:00:01 imap(alice)<12><x>: Info: Logged out", "dovecot", true},
		{"journal", `{"SYSLOG_IDENTIFIER":"dovecot","_SYSTEMD_UNIT":"dovecot.service","MESSAGE":"x"}`, "dovecot", true},
		{"journal cut short", `{"__CURSOR":"s=1","SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"imap-login: Login: user=<aaaa`, "journal", true},
		{"changed ident", "Nov 20 10:00:01 mx1 dovecot-mx2: imap-login: Login: user=<a>", "", false},
		{"lookalike", "Nov 20 10:00:01 mx1 postfixevil/smtpd[1]: x", "", false},
		{"sshd", "Nov 20 10:00:01 mx1 sshd[42]: Accepted publickey for root", "", false},
		{"sshd without host", "Nov 20 10:00:01 sshd[42]: Accepted publickey for root", "", false},
		{"logger in journal", `{"SYSLOG_IDENTIFIER":"dovecot","_COMM":"logger","MESSAGE":"x"}`, "", false},
		{"web app unit", `{"SYSLOG_IDENTIFIER":"postfix/smtpd","_SYSTEMD_UNIT":"php-fpm.service","MESSAGE":"x"}`, "", false},
		{"empty", "", "", false},
		{"garbage", "\x00\x01", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			prog, ok := p.MailProgram([]byte(tt.line))
			if prog != tt.prog || ok != tt.ok {
				t.Errorf("MailProgram(%q) = %q, %v; want %q, %v", tt.line, prog, ok, tt.prog, tt.ok)
			}
		})
	}
}
