package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/logfile"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// memSource is a lineSource over a string. It is a readerSource: run
// reads it line by line, runParallel splits it on a goroutine of its own
// with the block search (NextMatch), so the tests comparing them compare
// those too.
type memSource struct{ lr *logfile.LineReader }

func (s *memSource) lineReader() *logfile.LineReader { return s.lr }

func (s *memSource) Next() ([]byte, error) { return s.lr.Next() }
func (s *memSource) Name() string          { return "mem.log" }
func (s *memSource) LineNo() int           { return s.lr.LineNo() }
func (s *memSource) Long() int             { return s.lr.Long() }

// testPipeline returns a pipeline with the built-in ranges and the
// default rules, reading log, and its source.
func testPipeline(t *testing.T, log string) (*pipeline, *memSource) {
	t.Helper()
	cls, _, err := ipranges.Load(ipranges.Options{CacheDir: t.TempDir(), NoGeoIP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cls.Close() })
	eng := rules.NewEngine(rules.DefaultConfig(), rules.Options{})
	p := &pipeline{cls: cls, eng: eng, rules: eng, sum: report.NewSummary()}
	p.parser.Year = 2026
	src := &memSource{lr: logfile.NewLineReader(strings.NewReader(log))}
	src.lr.OnLong = p.longLine(&p.parser, src.Name)
	p.newInput(src.Name())
	return p, src
}

// parallelLog is a log of many batches: logins, failures, malformed lines,
// noise and over-long lines from a mail program, in a known order.
func parallelLog(n int) string {
	var b strings.Builder
	b.Grow(n/7*(logfile.DefaultMax+100) + n*120)
	for i := range n {
		s := fmt.Sprintf("Mar  2 %02d:%02d:%02d mx1 ", 6+i/3600%18, i/60%60, i%60)
		switch i % 7 {
		case 0:
			fmt.Fprintf(&b, "%sdovecot: imap-login: Login: user=<u%d@example.org>, method=PLAIN, rip=198.51.100.%d, lip=192.0.2.1, mpid=%d, TLS\n", s, i%13, i%200, i)
		case 1:
			fmt.Fprintf(&b, "%sdovecot: auth: passwd-file(u%d@example.org,203.0.113.%d): Password mismatch\n", s, i%5, i%250)
		case 2:
			fmt.Fprintf(&b, "%sdovecot: imap-login: Login: user=<u%d@example.org>, method=PLAIN, rip=not-an-address\n", s, i)
		case 3:
			fmt.Fprintf(&b, "%sdovecot: imap-login: Disconnected %s\n", s, strings.Repeat("x", logfile.DefaultMax))
		default:
			fmt.Fprintf(&b, "%spostfix/qmgr[3]: 4X%d: removed\n", s, i)
		}
	}
	return b.String()
}

// TestRunParallelSameAsRun pins that reading on its own goroutine changes
// nothing: the summary, the findings, the malformed lines (over-long ones
// in their place) and the counts are those of the one-goroutine run.
func TestRunParallelSameAsRun(t *testing.T) {
	log := parallelLog(5 * batchLen)
	var outs [2]string
	for i, parallel := range []bool{false, true} {
		p, src := testPipeline(t, log)
		var err error
		if parallel {
			err = p.runParallel(src)
		} else {
			err = p.run(src)
		}
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := report.WriteScan(&buf, report.JSON, p.sum, p.rules.Flush()); err != nil {
			t.Fatal(err)
		}
		outs[i] = fmt.Sprintf("malformed %d lines %d long %d mail %v\n%s", p.malformed, p.sum.Lines, p.sum.LongLines, p.in.mail, buf.String())
		if p.malformed < 2*batchLen/7 || p.sum.LongLines == 0 {
			t.Fatalf("parallel=%v: the log should have malformed and over-long lines: %d, %d", parallel, p.malformed, p.sum.LongLines)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("runParallel differs from run:\n--- run\n%.2000s\n--- runParallel\n%.2000s", outs[0], outs[1])
	}
}

// failWriter fails every event after the first ok.
type failWriter struct{ ok, n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(parse.Event, ipranges.Origin) error {
	if w.n++; w.n > w.ok {
		return errWrite
	}
	return nil
}
func (w *failWriter) Flush() error { return nil }
func (w *failWriter) Close() error { return nil }

// TestRunParallelStopsOnError pins that an output error stops the reading
// goroutine (no hang, no leak) and is returned.
func TestRunParallelStopsOnError(t *testing.T) {
	for _, ok := range []int{0, 3, batchLen/7 + 5} {
		p, src := testPipeline(t, parallelLog(20*batchLen))
		w := &failWriter{ok: ok}
		p.events = w
		if err := p.runParallel(src); !errors.Is(err, errWrite) {
			t.Errorf("ok=%d: err %v, want %v", ok, err, errWrite)
		}
		if w.n != ok+1 {
			t.Errorf("ok=%d: %d events written after the error", ok, w.n-ok-1)
		}
	}
}

// TestRunParallelReadError pins that a read error is returned naming the
// file and the line, after the lines before it were handled.
func TestRunParallelReadError(t *testing.T) {
	log := parallelLog(3 * batchLen)
	var lines [2]int64
	var errs [2]string
	for i, parallel := range []bool{false, true} {
		p, _ := testPipeline(t, "")
		src := &memSource{lr: logfile.NewLineReader(&errAfter{r: strings.NewReader(log)})}
		var err error
		if parallel {
			err = p.runParallel(src)
		} else {
			err = p.run(src)
		}
		if err == nil || !strings.Contains(err.Error(), "mem.log: after line") || !errors.Is(err, errRead) {
			t.Fatalf("parallel=%v: err %v", parallel, err)
		}
		lines[i], errs[i] = p.sum.Lines, err.Error()
	}
	if lines[0] != lines[1] || errs[0] != errs[1] || lines[0] < int64(2*batchLen) {
		t.Errorf("run read %d lines and said %q; runParallel %d and %q", lines[0], errs[0], lines[1], errs[1])
	}
}

var errRead = errors.New("read failed")

// errAfter returns errRead after r's end.
type errAfter struct{ r *strings.Reader }

func (e *errAfter) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err != nil {
		return n, errRead
	}
	return n, nil
}
