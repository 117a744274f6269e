package parse_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/loggen"
	"github.com/mailaudit/mailaudit/parse"
)

// genLines returns n loggen lines (seed 1).
func genLines(tb testing.TB, n int) ([][]byte, int) {
	var buf bytes.Buffer
	if err := loggen.New(1, time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)).WriteLines(&buf, n); err != nil {
		tb.Fatal(err)
	}
	size := buf.Len()
	return bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")), size
}

// BenchmarkParse parses a realistic mail log (~12 % logins and auth lines);
// one op is one line.
func BenchmarkParse(b *testing.B) {
	lines, size := genLines(b, 100000)
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	p := parse.Parser{Location: time.UTC, Year: 2025}
	i := 0
	for b.Loop() {
		p.Parse(lines[i])
		if i++; i == len(lines) {
			i = 0
		}
	}
}

// BenchmarkParseIgnored parses only the lines that are not events.
func BenchmarkParseIgnored(b *testing.B) { benchStatus(b, parse.Ignored) }

// TestIgnoredLinesDoNotAllocate pins the hot path: a line that is not an
// event costs no allocation, whatever its shape.
func TestIgnoredLinesDoNotAllocate(t *testing.T) {
	lines, _ := genLines(t, 20000)
	extra := []string{
		"Nov 22 10:00:01 mx1 postfix/smtpd[3]: disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3",
		"Nov 22 10:00:01 mx1 dovecot: imap-login: ID sent: name=Thunderbird: user=<>, rip=192.0.2.1",
		"Nov 22 10:00:01 mx1 www-data: imap-login: Login: user=<x>, rip=6.6.6.6",
		"Nov 22 10:00:01 mx1 dovecot: auth: passwd-file(alias@example.org): unknown user",
		"Nov 22 10:00:01 mx1 postfix/smtpd[3]: 4Xy7Hq1rZ2z9sWN: client=unknown[52.98.204.101]",
		"<22>1 2025-11-22T10:00:01Z mx1 sshd 812 - [meta x=\"1\"] Accepted publickey for auth",
		"2025-11-22T10:00:01.5+01:00 mx1 kernel: auth something",
		"@40000000692189ab00000000 master: Info: auth process started",
		`{"MESSAGE":"imap-login: Login: user=<x>, rip=6.6.6.6","SYSLOG_IDENTIFIER":"nginx"}`,
	}
	for _, s := range extra {
		lines = append(lines, []byte(s))
	}
	p := parse.Parser{Location: time.UTC, Year: 2025}
	n := 0
	for _, l := range lines {
		if _, st := p.Parse(l); st != parse.Ignored {
			continue
		}
		n++
		if a := testing.AllocsPerRun(20, func() { p.Parse(l) }); a != 0 {
			t.Errorf("%.1f allocations for ignored line %q", a, l)
		}
	}
	if n < 15000 {
		t.Fatalf("only %d ignored lines", n)
	}
}

// BenchmarkParseEvents parses only the lines that yield an event.
func BenchmarkParseEvents(b *testing.B) { benchStatus(b, parse.Parsed) }

// benchStatus parses, over and over, the generated lines whose status is
// st, and reports the bytes of an average such line.
func benchStatus(b *testing.B, st parse.Status) {
	all, _ := genLines(b, 100000)
	p := parse.Parser{Location: time.UTC, Year: 2025}
	var lines [][]byte
	size := 0
	for _, l := range all {
		if _, got := p.Parse(l); got == st {
			lines = append(lines, l)
			size += len(l) + 1
		}
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Parse(lines[i])
		if i++; i == len(lines) {
			i = 0
		}
	}
}
