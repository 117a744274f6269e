package logfile

import (
	"bufio"
	"io"
)

// DefaultMax is the default LineReader.Max: the longest line, in bytes
// without its newline, that is returned rather than skipped.
const DefaultMax = 64 << 10

// bufSize is the read buffer size used for lines and gzip input.
const bufSize = 64 << 10

// A LineReader splits a byte stream into lines. Unlike bufio.Scanner it
// never stops at an over-long line: such lines are skipped and counted.
// It does not allocate per line once its buffers have grown to the longest
// line seen. A LineReader is not safe for concurrent use.
//
// After Next returns io.EOF, Next may be called again: if the underlying
// reader has grown (a followed file), reading continues where it stopped,
// including a partial line held back by CompleteOnly.
type LineReader struct {
	// Max is the longest line returned, in bytes without the newline;
	// longer lines are skipped and counted by Long. Zero means DefaultMax.
	Max int
	// CompleteOnly holds back a final line that has no '\n' yet: Next
	// returns io.EOF instead and returns the line once it is complete.
	// Use it for resuming and following, where the writer may be in the
	// middle of a line. When false (scan mode), a final unterminated line
	// is returned before io.EOF.
	CompleteOnly bool

	br     *bufio.Reader
	buf    []byte // the current line when it spans buffer refills
	clear  bool   // buf holds the line returned last
	skip   bool   // the current line is over Max and being discarded
	pend   int64  // bytes of the current unfinished line consumed
	lineNo int
	offset int64
	long   int
}

// NewLineReader returns a LineReader reading from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, bufSize)}
}

// Reset makes l read from r as if it were new, keeping Max, CompleteOnly
// and its buffers.
func (l *LineReader) Reset(r io.Reader) {
	l.reset(r, 0, 0)
	l.long = 0
}

// reset makes l read from r, which is positioned at byte off of its file,
// after line number line. The count of long lines is kept.
func (l *LineReader) reset(r io.Reader, off int64, line int) {
	if l.br == nil {
		l.br = bufio.NewReaderSize(r, bufSize)
	} else {
		l.br.Reset(r)
	}
	l.buf = l.buf[:0]
	l.clear, l.skip = false, false
	l.pend = 0
	l.lineNo = line
	l.offset = off
}

// Next returns the next line without its "\n" and without a trailing
// "\r". The line is valid until the next call. At the end of the input it
// returns io.EOF; other read errors (for example io.ErrUnexpectedEOF from a
// truncated gzip stream) are returned as they are.
func (l *LineReader) Next() ([]byte, error) {
	maxLen := l.Max
	if maxLen <= 0 {
		maxLen = DefaultMax
	}
	if l.clear {
		l.buf = l.buf[:0]
		l.clear = false
	}
	for {
		frag, err := l.br.ReadSlice('\n')
		l.pend += int64(len(frag))
		switch err {
		case nil:
			body := frag[:len(frag)-1]
			n := len(l.buf) + len(body)
			if endsCR(l.buf, body) {
				n-- // the "\r" of "\r\n" does not count
			}
			skip := l.skip || n > maxLen
			l.lineNo++
			l.offset += l.pend
			l.pend = 0
			l.skip = false
			if skip {
				l.long++
				l.buf = l.buf[:0]
				continue
			}
			line := body
			if len(l.buf) > 0 {
				l.buf = append(l.buf, body...)
				line = l.buf
				l.clear = true
			}
			return trimCR(line), nil
		case bufio.ErrBufferFull:
			l.hold(frag, maxLen)
		default:
			l.hold(frag, maxLen)
			if err == io.EOF && !l.CompleteOnly && l.pend > 0 {
				return l.flush(maxLen)
			}
			return nil, err
		}
	}
}

// hold keeps frag, part of a line not yet complete, unless the line is
// already too long. One byte over maxLen is kept: it may be the "\r" of
// a "\r\n" split between reads.
func (l *LineReader) hold(frag []byte, maxLen int) {
	if l.skip {
		return
	}
	if len(l.buf)+len(frag) > maxLen+1 {
		l.skip = true
		l.buf = l.buf[:0]
		return
	}
	l.buf = append(l.buf, frag...)
}

// flush returns the held unterminated line as a final line, or io.EOF if
// there is none or it was too long. Offset does not move: the line is not
// complete.
func (l *LineReader) flush(maxLen int) ([]byte, error) {
	if l.pend == 0 {
		return nil, io.EOF
	}
	l.lineNo++
	l.pend = 0
	if l.skip || len(trimCR(l.buf)) > maxLen {
		l.buf = l.buf[:0]
		l.skip = false
		l.long++
		return nil, io.EOF
	}
	l.clear = true
	return trimCR(l.buf), nil
}

// LineNo returns the 1-based number of the line Next returned last,
// counting skipped over-long lines (and, after a resume, the lines before
// the resume point).
func (l *LineReader) LineNo() int { return l.lineNo }

// Offset returns the byte offset just past the last complete line
// consumed (returned or skipped): the position to resume from.
func (l *LineReader) Offset() int64 { return l.offset }

// Long returns how many over-long lines were skipped.
func (l *LineReader) Long() int { return l.long }

// endsCR reports whether the line made of held and body ends in "\r".
func endsCR(held, body []byte) bool {
	if len(body) > 0 {
		return body[len(body)-1] == '\r'
	}
	return len(held) > 0 && held[len(held)-1] == '\r'
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
