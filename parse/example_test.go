package parse_test

import (
	"fmt"
	"time"

	"github.com/mailaudit/mailaudit/parse"
)

func ExampleParser_Parse() {
	p := parse.Parser{Year: 2025, Location: time.UTC}
	for _, line := range []string{
		"Nov 22 10:00:01 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=52.98.204.101, lip=198.51.100.25, mpid=4121, TLS, session=<6wzJvinOOLisEQAB>",
		"Nov 22 10:00:02 mx1 postfix/smtpd[4711]: warning: unknown[203.0.113.10]:51234: SASL LOGIN authentication failed: (reason unavailable), sasl_username=admin",
		"Nov 22 10:00:03 mx1 postfix/qmgr[812]: 4Xy7Hq1rZ2z9sWN: removed",
		"Nov 22 10:00:04 mx1 dovecot: imap-login: Disconnected (tried to use unsupported auth mechanism): user=<a>, method=EVIL>, rip=203.0.113.9",
	} {
		ev, st := p.Parse([]byte(line))
		switch st {
		case parse.Parsed:
			fmt.Println(ev.Time.Format(time.Stamp), ev.Kind, ev.Service, ev.Result, ev.User, ev.Addr, ev.Method)
		case parse.Malformed:
			fmt.Println("malformed:", ev.Reason)
		case parse.Ignored:
			fmt.Println("ignored")
		}
	}
	// Output:
	// Nov 22 10:00:01 login imap success alice@example.org 52.98.204.101 PLAIN
	// Nov 22 10:00:02 sasl smtp failure admin 203.0.113.10 LOGIN
	// ignored
	// malformed: ambiguous user field
}
