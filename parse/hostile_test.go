package parse

import (
	"fmt"
	"strings"
	"testing"
)

// hostileLine is a line built to defeat naive scanning: a prefix, a unit
// repeated to fill the line, a suffix.
type hostileLine struct {
	name                 string
	prefix, unit, suffix string
	st                   Status // what Parse makes of it
}

var hostileLines = []hostileLine{
	{"rip in user", hostDV + "imap-login: Login: user=<", "a>, rip=1.2.3.4, ", "x>, rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"reasons a: a:", hostDV + "imap-login: Disconnected: ", "a: a: (", "): user=<>, rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"open parens", hostDV + "imap-login: Disconnected ", "(((", "): rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"close parens", hostDV + "imap-login: Disconnected (", ")))", ": rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"elements after rip", hostDV + "imap-login: Login: user=<x>, rip=192.0.2.1", ", lip=", "", Malformed},
	{"empty elements", hostDV + "imap-login: Login: user=<x>, rip=192.0.2.1", ", ", "", Parsed},
	{"rip without separator", hostDV + "imap-login: Login: user=<x>, rip=", "rip=", "", Malformed},
	{"many rips", hostDV + "imap-login: Login: ", ", rip=", "192.0.2.1", Malformed},
	{"many users", hostDV + "imap-login: Login", ": user=<", ">, rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"many methods", hostDV + "imap-login: Login: user=<x", ">, method=A", ">, method=B, rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"many proxies", hostDV + "imap-login: ", "proxy(", ": user=<x>, rip=192.0.2.1", Ignored},
	{"many auth lines", hostDV + "auth: sql(", "x,1.2.3.4): unknown user", "", Malformed},
	{"auth groups", hostDV + "auth(", "<a>", ": sql: unknown user", Ignored},
	{"auth parens", hostDV + "auth: sql(x,192.0.2.1): unknown user", "): ", "", Malformed},
	{"auth commas", hostDV + "auth: sql(x", ",", "192.0.2.1): unknown user", Parsed},
	{"passwords", hostDV + "auth: sql(x,192.0.2.1): unknown user", " (given password: ", ")", Malformed},
	{"pam rhosts", hostDV + "pam_unix(dovecot:auth): authentication failure; ruser=", " rhost=1.2.3.4", "", Parsed},
	{"pam spaces", hostDV + "pam_unix(dovecot:auth): authentication failure; ruser=x rhost=192.0.2.1", " ", "user=x", Parsed},
	{"postfix brackets", "Nov 22 10:00:01 mx1 postfix/smtpd[1]: warning: a[", "[[[[", "]: SASL LOGIN authentication failed: x", Malformed},
	{"postfix sasl users", "Nov 22 10:00:01 mx1 postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x", ", sasl_username=", "", Parsed},
	{"json arrays", `{"MESSAGE":`, "[", "", Ignored},
	{"json escapes", `{"SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"imap-login: Login: user=<`, `\u0041`, `>, rip=192.0.2.1, lip=192.0.2.2"}`, Parsed},
	{"json newlines", `{"SYSLOG_IDENTIFIER":"dovecot","MESSAGE":"imap-login: Login: user=<`, `\n`, `>, rip=192.0.2.1"}`, Malformed},
	{"json fields", `{`, `"A":1,`, `"MESSAGE":"x auth"}`, Ignored},
	{"rfc5424 sd", "<22>1 2025-11-22T10:00:01Z mx1 dovecot 812 - ", `[a b="]\""]`, " imap-login: Login: user=<x>, rip=192.0.2.1, lip=192.0.2.2", Parsed},
	{"login processes", "", "auth-login: ", "", Ignored},
	{"level words", hostDV + "imap-login: ", "Info: ", "Login: user=<x>, rip=192.0.2.1", Ignored},
}

// fill returns h as a line of about size bytes.
func (h hostileLine) fill(size int) []byte {
	n := max(1, (size-len(h.prefix)-len(h.suffix))/len(h.unit))
	return []byte(h.prefix + strings.Repeat(h.unit, n) + h.suffix)
}

// TestHostileLines parses 64 KiB lines built against naive scanning. Their
// speed is measured by BenchmarkHostile (MB/s must not drop with the line
// size); here their results and allocations are pinned: an allocation
// count that grows with the line would show per-match work.
func TestHostileLines(t *testing.T) {
	for _, h := range hostileLines {
		t.Run(h.name, func(t *testing.T) {
			small, large := h.fill(4<<10), h.fill(64<<10)
			p := parser2025()
			if _, st := p.Parse(large); st != h.st {
				t.Errorf("status %v, want %v", st, h.st)
			}
			if _, st := p.Parse(small); st != h.st {
				t.Errorf("4 KiB: status %v, want %v", st, h.st)
			}
			as := testing.AllocsPerRun(5, func() { p.Parse(small) })
			al := testing.AllocsPerRun(5, func() { p.Parse(large) })
			if al > 8 || al > as {
				t.Errorf("%.0f allocations at 64 KiB, %.0f at 4 KiB", al, as)
			}
		})
	}
}

// BenchmarkHostile parses each hostile line at 4 KiB and 64 KiB: a linear
// parser has the same MB/s at both sizes, a quadratic one 16 times less.
func BenchmarkHostile(b *testing.B) {
	for _, h := range hostileLines {
		for _, size := range []int{4 << 10, 64 << 10} {
			line := h.fill(size)
			b.Run(fmt.Sprintf("%s/%dKiB", strings.ReplaceAll(h.name, " ", "_"), size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(line)))
				b.ReportAllocs()
				p := parser2025()
				for b.Loop() {
					p.Parse(line)
				}
			})
		}
	}
}
