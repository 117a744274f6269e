package logfile

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

var testFilter = &Filter{
	Markers: []Marker{{"-login: ", 0}, {"auth", 3}, {"SASL ", 3}, {"sasl_method=", 4}},
	Starts:  "{",
}

// selects is the filter's definition: a plain search.
func selects(f *Filter, line []byte) bool {
	if len(line) > 0 && strings.IndexByte(f.Starts, line[0]) >= 0 {
		return true
	}
	for _, m := range f.Markers {
		if bytes.Contains(line, []byte(m.Text)) {
			return true
		}
	}
	return false
}

// seen is one line a reader returned, with where it was.
type seen struct {
	line   string
	no     int
	offset int64
}

// readSelected reads data with Next (match false) or NextMatch, keeping the
// lines f selects, and returns them, how many lines were read (returned
// or skipped, not over-long), the over-long lines reported and the
// error that ended reading.
func readSelected(t *testing.T, r io.Reader, maxLen int, completeOnly, match bool, f *Filter) ([]seen, int, []string, error) {
	t.Helper()
	lr := NewLineReader(r)
	lr.Max, lr.CompleteOnly = maxLen, completeOnly
	var long []string
	lr.OnLong = func(n int, head []byte) { long = append(long, fmt.Sprintf("%d:%s", n, head)) }
	var out []seen
	total := 0
	for {
		var line []byte
		var err error
		if match {
			var n int
			var nb int64
			line, n, nb, err = lr.NextMatch(f)
			if n < 0 || nb < int64(n) {
				t.Fatalf("skipped %d lines of %d bytes", n, nb)
			}
			total += n
		} else {
			line, err = lr.Next()
		}
		if err != nil {
			if lr.Long() != len(long) {
				t.Fatalf("Long %d, OnLong called %d times", lr.Long(), len(long))
			}
			return out, total, long, err
		}
		total++
		if selects(f, line) {
			out = append(out, seen{string(line), lr.LineNo(), lr.Offset()})
		}
	}
}

// TestNextMatchRandom compares NextMatch with Next and a plain search on
// random inputs of markers, line ends of every kind, lines starting with
// "{", and lines over Max, read in small and large pieces.
func TestNextMatchRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "u", "t", "h", "-", "login", ": ", "S", "A", "L", " ", "sasl", "_method", "=", "x",
		"\n", "\n", "\n", "\r\n", "\r", "{", "\n{", "auth", "-login: ", "SASL ", "sasl_method="}
	for i := 0; i < 3000; i++ {
		var b []byte
		for n := r.IntN(400); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
			if r.IntN(50) == 0 {
				b = append(b, strings.Repeat("y", r.IntN(80))...)
			}
		}
		maxLen := []int{8, 30, 100, 0}[r.IntN(4)]
		completeOnly := r.IntN(2) == 0
		readers := []func([]byte) io.Reader{
			func(b []byte) io.Reader { return bytes.NewReader(b) },
			func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
			func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		}
		rd := readers[r.IntN(len(readers))]
		want, wantN, wantLong, wantErr := readSelected(t, rd(b), maxLen, completeOnly, false, testFilter)
		got, gotN, gotLong, gotErr := readSelected(t, rd(b), maxLen, completeOnly, true, testFilter)
		if wantErr != gotErr || wantN != gotN || fmt.Sprint(want) != fmt.Sprint(got) || fmt.Sprint(wantLong) != fmt.Sprint(gotLong) {
			t.Fatalf("input %q (Max %d, CompleteOnly %v):\nNext:      %d lines %v long %v %v\nNextMatch: %d lines %v long %v %v",
				b, maxLen, completeOnly, wantN, want, wantLong, wantErr, gotN, got, gotLong, gotErr)
		}
	}
}

// TestNextMatchBlocks reads a large input with lines of every kind through
// the 64 KiB buffer: line numbers, offsets and counts as with Next.
func TestNextMatchBlocks(t *testing.T) {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		switch {
		case i%97 == 0:
			fmt.Fprintf(&b, "Nov 22 10:00:01 mx1 dovecot: imap-login: Login: user=<u%d>, rip=192.0.2.1\n", i)
		case i%1013 == 0:
			fmt.Fprintf(&b, "{\"MESSAGE\":\"x %d\"}\n", i)
		case i%5003 == 0:
			b.WriteString(strings.Repeat("auth ", 20000) + "\n") // over-long
		case i%7001 == 0:
			b.WriteString("Nov 22 10:00:01 mx1 postfix/smtpd[3]: warning: SASL LOGIN authentication failed\r\n")
		default:
			fmt.Fprintf(&b, "Nov 22 10:00:01 mx1 postfix/qmgr[3]: 4Xy%d: removed\n", i)
		}
	}
	b.WriteString("last line auth without a line end")
	for _, completeOnly := range []bool{false, true} {
		want, wantN, wantLong, wantErr := readSelected(t, bytes.NewReader(b.Bytes()), 0, completeOnly, false, testFilter)
		got, gotN, gotLong, gotErr := readSelected(t, bytes.NewReader(b.Bytes()), 0, completeOnly, true, testFilter)
		if len(want) < 100 || len(wantLong) == 0 {
			t.Fatalf("test input has %d selected and %d long lines", len(want), len(wantLong))
		}
		if wantErr != gotErr || wantN != gotN || fmt.Sprint(want) != fmt.Sprint(got) || fmt.Sprint(wantLong) != fmt.Sprint(gotLong) {
			t.Fatalf("CompleteOnly %v: Next %d lines, %d selected, %d long, %v; NextMatch %d, %d, %d, %v",
				completeOnly, wantN, len(want), len(wantLong), wantErr, gotN, len(got), len(gotLong), gotErr)
		}
	}
}
