package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type readResult struct {
	lines  []string
	lineNo []int
	offset int64
	long   int
	err    error
}

func readAll(lr *LineReader) readResult {
	var res readResult
	for {
		line, err := lr.Next()
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			break
		}
		res.lines = append(res.lines, string(line))
		res.lineNo = append(res.lineNo, lr.LineNo())
	}
	res.offset = lr.Offset()
	res.long = lr.Long()
	return res
}

func TestLineReader(t *testing.T) {
	big := strings.Repeat("x", 100_000)       // spans several buffer refills
	mid := strings.Repeat("y", bufSize+10)    // just over one buffer
	fits := strings.Repeat("z", DefaultMax-1) // under the default Max
	tests := []struct {
		name         string
		in           string
		max          int
		completeOnly bool
		want         []string
		wantNo       []int
		wantOff      int64
		wantLong     int
	}{
		{name: "empty", in: "", wantOff: 0},
		{name: "simple", in: "a\nbb\n", want: []string{"a", "bb"}, wantNo: []int{1, 2}, wantOff: 5},
		{name: "crlf", in: "a\r\nb\r\n", want: []string{"a", "b"}, wantNo: []int{1, 2}, wantOff: 6},
		// A lone "\r" ends a line (old Mac line ends; syslog never writes
		// one inside a message): a CR-only file is not one huge line.
		{name: "lone cr ends a line", in: "a\rb\n", want: []string{"a", "b"}, wantNo: []int{1, 2}, wantOff: 4},
		{name: "cr only", in: "a\rbb\rc\r", want: []string{"a", "bb", "c"}, wantNo: []int{1, 2, 3}, wantOff: 5},
		{name: "cr only held back", in: "a\rbb\rc\r", completeOnly: true, want: []string{"a", "bb"}, wantNo: []int{1, 2}, wantOff: 5},
		{name: "mixed ends", in: "a\r\nb\rc\n\rd\n", want: []string{"a", "b", "c", "", "d"}, wantNo: []int{1, 2, 3, 4, 5}, wantOff: 10},
		{name: "cr cr lf", in: "a\r\r\nb\n", want: []string{"a", "", "b"}, wantNo: []int{1, 2, 3}, wantOff: 6},
		{name: "cr-only file longer than max", in: strings.Repeat("line\r", 20000) + "end\n", want: append(slices.Repeat([]string{"line"}, 20000), "end"), wantNo: seq(20001), wantOff: 100004},
		{name: "cr line over max skipped", in: "abc\rabcd\rab\r\n", max: 3, want: []string{"abc", "ab"}, wantNo: []int{1, 3}, wantOff: 13, wantLong: 1},
		{name: "empty lines", in: "\n\nx\n", want: []string{"", "", "x"}, wantNo: []int{1, 2, 3}, wantOff: 4},
		{name: "final unterminated returned", in: "a\nb", want: []string{"a", "b"}, wantNo: []int{1, 2}, wantOff: 2},
		{name: "final unterminated held back", in: "a\nb", completeOnly: true, want: []string{"a"}, wantNo: []int{1}, wantOff: 2},
		{name: "final cr unterminated", in: "a\r", want: []string{"a"}, wantNo: []int{1}, wantOff: 0},
		{name: "long skipped", in: "a\n" + big + "\nb\n", want: []string{"a", "b"}, wantNo: []int{1, 3}, wantOff: int64(len(big)) + 5, wantLong: 1},
		{name: "just over buffer skipped", in: mid + "\nb\n", want: []string{"b"}, wantNo: []int{2}, wantOff: int64(len(mid)) + 3, wantLong: 1},
		{name: "under max kept", in: fits + "\nb\n", want: []string{fits, "b"}, wantNo: []int{1, 2}, wantOff: int64(len(fits)) + 3},
		{name: "small max", in: "abc\nabcd\nab\n", max: 3, want: []string{"abc", "ab"}, wantNo: []int{1, 3}, wantOff: 12, wantLong: 1},
		// Regression: the "\r" of "\r\n" counted against Max.
		{name: "crlf line at max kept", in: "abc\r\nabcd\r\nab\n", max: 3, want: []string{"abc", "ab"}, wantNo: []int{1, 3}, wantOff: 14, wantLong: 1},
		{name: "unterminated over max by one", in: "a\nabcd", max: 3, want: []string{"a"}, wantNo: []int{1}, wantOff: 2, wantLong: 1},
		{name: "unterminated cr at max", in: "a\nabc\r", max: 3, want: []string{"a", "abc"}, wantNo: []int{1, 2}, wantOff: 2},
		{name: "long unterminated tail", in: "a\n" + big, want: []string{"a"}, wantNo: []int{1}, wantOff: 2, wantLong: 1},
		{name: "long unterminated tail held back", in: "a\n" + big, completeOnly: true, want: []string{"a"}, wantNo: []int{1}, wantOff: 2},
		{name: "big max keeps big line", in: big + "\n", max: 200_000, want: []string{big}, wantNo: []int{1}, wantOff: int64(len(big)) + 1},
		{name: "hostile bytes", in: "\x00\x1b[2J\xff\n", want: []string{"\x00\x1b[2J\xff"}, wantNo: []int{1}, wantOff: 7},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"onebyte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"dataerr", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				if rd.name == "onebyte" && len(tt.in) > 70_000 {
					t.Skip("slow with one-byte reads")
				}
				lr := NewLineReader(rd.wrap(strings.NewReader(tt.in)))
				lr.Max = tt.max
				lr.CompleteOnly = tt.completeOnly
				got := readAll(lr)
				if got.err != nil {
					t.Fatalf("error %v", got.err)
				}
				if !equalStrings(got.lines, tt.want) {
					t.Errorf("lines %q, want %q", short(got.lines), short(tt.want))
				}
				if !equalInts(got.lineNo, tt.wantNo) {
					t.Errorf("line numbers %v, want %v", got.lineNo, tt.wantNo)
				}
				if got.offset != tt.wantOff {
					t.Errorf("Offset %d, want %d", got.offset, tt.wantOff)
				}
				if got.long != tt.wantLong {
					t.Errorf("Long %d, want %d", got.long, tt.wantLong)
				}
			})
		}
	}
}

// seq returns 1…n.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

// growing is a reader whose content can be appended to after EOF, like a
// followed file.
type growing struct{ buf bytes.Buffer }

func (g *growing) Read(p []byte) (int, error) { return g.buf.Read(p) }

func TestLineReaderContinuesAfterEOF(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   [][]string // lines after each chunk
		off    int64
	}{
		{name: "partial completed", chunks: []string{"a\nb", "c\n"}, want: [][]string{{"a"}, {"bc"}}, off: 5},
		{name: "split cr lf", chunks: []string{"a\r", "\nb\n"}, want: [][]string{nil, {"a", "b"}}, off: 5},
		{name: "split lone cr", chunks: []string{"a\r", "b\r", "\n"}, want: [][]string{nil, {"a"}, {"b"}}, off: 5},
		{name: "nothing then lines", chunks: []string{"", "x\ny\n", ""}, want: [][]string{nil, {"x", "y"}, nil}, off: 4},
		{name: "long line over chunks", chunks: []string{strings.Repeat("x", 40_000), strings.Repeat("x", 40_000), "\nok\n"}, want: [][]string{nil, nil, {"ok"}}, off: 80_004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &growing{}
			lr := NewLineReader(g)
			lr.CompleteOnly = true
			for i, c := range tt.chunks {
				g.buf.WriteString(c)
				got := readAll(lr)
				if !equalStrings(got.lines, tt.want[i]) {
					t.Errorf("after chunk %d: %q, want %q", i, got.lines, tt.want[i])
				}
			}
			if lr.Offset() != tt.off {
				t.Errorf("Offset %d, want %d", lr.Offset(), tt.off)
			}
		})
	}
}

func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)))
	got := readAll(lr)
	if !errors.Is(got.err, boom) {
		t.Fatalf("error %v, want %v", got.err, boom)
	}
	if !equalStrings(got.lines, []string{"a"}) {
		t.Errorf("lines %q", got.lines)
	}
}

func TestLineReaderReset(t *testing.T) {
	lr := NewLineReader(strings.NewReader("a\nb\n"))
	lr.Max = 1
	readAll(lr)
	lr.Reset(strings.NewReader("xy\nz\n"))
	got := readAll(lr)
	if !equalStrings(got.lines, []string{"z"}) || got.long != 1 || got.offset != 5 || !equalInts(got.lineNo, []int{2}) {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestLineReaderZeroAlloc(t *testing.T) {
	data := []byte(strings.Repeat("Nov 24 10:00:01 mx1 dovecot: imap-login: Login: user=<alice>, rip=203.0.113.45\n", 2000))
	r := bytes.NewReader(data)
	lr := NewLineReader(r)
	lr.CompleteOnly = true
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(data)
		lr.Reset(r)
		n := 0
		for {
			if _, err := lr.Next(); err != nil {
				break
			}
			n++
		}
		if n != 2000 {
			t.Fatalf("%d lines", n)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 2000 lines, want 0", allocs)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// short abbreviates long lines in failure messages.
func short(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) > 40 {
			l = l[:20] + "…" + l[len(l)-10:]
		}
		out[i] = l
	}
	return out
}

// TestLineReaderBoundedBuffer: over-long lines, terminated or not and
// however they are split between reads, never grow the line buffer past
// about Max.
func TestLineReaderBoundedBuffer(t *testing.T) {
	long := strings.Repeat("x", 3*DefaultMax)
	for _, completeOnly := range []bool{false, true} {
		t.Run(fmt.Sprint("completeOnly=", completeOnly), func(t *testing.T) {
			g := &growing{}
			lr := NewLineReader(g)
			lr.CompleteOnly = completeOnly
			for i := range 20 {
				g.buf.WriteString(long[:DefaultMax+i*1000])
				readAll(lr)
				g.buf.WriteString(long[:i*5000] + "\n")
				readAll(lr)
			}
			if c := cap(lr.buf); c > 2*(DefaultMax+1) {
				t.Errorf("line buffer capacity %d after over-long lines, want ≤ %d", c, 2*(DefaultMax+1))
			}
			if completeOnly && lr.Long() != 19 { // the first line is exactly Max
				t.Errorf("Long %d, want 19", lr.Long())
			}
		})
	}
}

// TestEndOfLineEnds: the end position of a followed file (FromEnd) counts
// lines with the LineReader's line ends, lone "\r" included.
func TestEndOfLineEnds(t *testing.T) {
	for _, c := range []struct {
		in    string
		off   int64
		lines int
	}{
		{"a\nb\nc", 4, 2},
		{"a\rb\rc", 4, 2},
		{"a\r\nb\r", 3, 1},
		{"", 0, 0},
	} {
		off, lines, err := endOf(strings.NewReader(c.in))
		if err != nil || off != c.off || lines != c.lines {
			t.Errorf("endOf(%q) = %d, %d, %v; want %d, %d", c.in, off, lines, err, c.off, c.lines)
		}
	}
}
