package logfile

import (
	"bufio"
	"bytes"
	"io"
)

// DefaultMax is the default LineReader.Max: the longest line, in bytes
// without its newline, that is returned rather than skipped.
const DefaultMax = 64 << 10

// bufSize is the read buffer size used for lines and gzip input.
const bufSize = 64 << 10

// HeadLen is how many leading bytes of a skipped over-long line
// LineReader.OnLong is given.
const HeadLen = 1024

// A LineReader splits a byte stream into lines. A line ends at "\n", at
// "\r\n" or at a lone "\r" (old Mac line ends: a file of them is not one
// huge line; syslog never writes a "\r" inside a message). Unlike
// bufio.Scanner it never stops at an over-long line: such lines are
// skipped and counted. It does not allocate per line once its buffers
// have grown to the longest line seen. A LineReader is not safe for
// concurrent use.
//
// After Next returns io.EOF, Next may be called again: if the underlying
// reader has grown (a followed file), reading continues where it stopped,
// including a partial line held back by CompleteOnly.
type LineReader struct {
	// Max is the longest line returned, in bytes without the line end;
	// longer lines are skipped and counted by Long. Zero means DefaultMax.
	Max int
	// CompleteOnly holds back a final line that has no line end yet: Next
	// returns io.EOF instead and returns the line once it is complete.
	// Use it for resuming and following, where the writer may be in the
	// middle of a line. When false (scan mode), a final unterminated line
	// is returned before io.EOF.
	CompleteOnly bool
	// OnLong, when set, is called for each skipped over-long line with
	// its number and its first HeadLen bytes (valid during the call
	// only), so a caller can tell whose line it was.
	OnLong func(line int, head []byte)

	br     *bufio.Reader
	buf    []byte // the current line when it spans buffer refills
	head   []byte // the first HeadLen bytes of a line being skipped
	clear  bool   // buf holds the line returned last
	skip   bool   // the current line is over Max and being discarded
	cr     bool   // the held part ended in a "\r" whose next byte is unknown
	pend   int64  // bytes of the current unfinished line consumed
	lineNo int
	offset int64
	long   int
	m      match // NextMatch's block
}

// NewLineReader returns a LineReader reading from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, bufSize)}
}

// Reset makes l read from r as if it were new, keeping Max, CompleteOnly,
// OnLong and its buffers.
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
	l.head = l.head[:0]
	l.clear, l.skip, l.cr = false, false, false
	l.pend = 0
	l.lineNo = line
	l.offset = off
	l.m.block, l.m.pos = nil, 0
}

// Next returns the next line without its line end. The line is valid
// until the next call. At the end of the input it returns io.EOF; other
// read errors (for example io.ErrUnexpectedEOF from a truncated gzip
// stream) are returned as they are.
func (l *LineReader) Next() ([]byte, error) {
	maxLen := l.Max
	if maxLen <= 0 {
		maxLen = DefaultMax
	}
	if l.clear {
		l.buf = l.buf[:0]
		l.clear = false
	}
	l.m.block, l.m.pos = nil, 0 // NextMatch's block is consumed from here on
	for {
		b, _ := l.br.Peek(l.br.Buffered())
		if len(b) == 0 {
			if _, err := l.br.Peek(1); err != nil {
				return l.atEnd(err, maxLen)
			}
			continue
		}
		if l.cr {
			// The held line ended in "\r": it is complete either way,
			// with a "\n" to consume if one follows.
			l.cr = false
			n := 0
			if b[0] == '\n' {
				n = 1
			}
			if line, ok := l.complete(nil, n, maxLen); ok {
				return line, nil
			}
			continue
		}
		nl := bytes.IndexByte(b, '\n')
		seg := b
		if nl >= 0 {
			seg = b[:nl]
		}
		cr := bytes.IndexByte(seg, '\r')
		var line []byte
		var n int
		switch {
		case cr >= 0 && cr+1 < len(b):
			line, n = b[:cr], 1 // a lone "\r"
			if b[cr+1] == '\n' {
				n++ // "\r\n"
			}
		case cr >= 0:
			// A "\r" ends what is buffered: the next byte tells
			// whether a "\n" belongs to it.
			l.hold(b[:cr], maxLen)
			l.pend += int64(len(b))
			l.br.Discard(len(b))
			l.cr = true
			continue
		case nl >= 0:
			line, n = b[:nl], 1
		default:
			l.hold(b, maxLen)
			l.pend += int64(len(b))
			l.br.Discard(len(b))
			continue
		}
		if line, ok := l.complete(line, n, maxLen); ok {
			return line, nil
		}
	}
}

// complete ends the current line with its last part, which is followed by
// a line end of n bytes still in the buffer. It reports false when the
// line was too long and was skipped.
func (l *LineReader) complete(last []byte, n, maxLen int) ([]byte, bool) {
	size := len(l.buf) + len(last)
	skip := l.skip || size > maxLen
	if skip && !l.skip {
		l.keepHead(last)
	}
	l.lineNo++
	l.offset += l.pend + int64(len(last)+n)
	l.pend = 0
	l.skip = false
	line := last
	if skip {
		l.skipped()
	} else if len(l.buf) > 0 {
		l.buf = append(l.buf, last...)
		line = l.buf
		l.clear = true
	}
	// Discarding buffered bytes does not overwrite them: line stays
	// valid until the next read.
	l.br.Discard(len(last) + n)
	return line, !skip
}

// skipped counts the over-long line just ended and reports it.
func (l *LineReader) skipped() {
	l.long++
	if l.OnLong != nil {
		l.OnLong(l.lineNo, l.head)
	}
	l.buf = l.buf[:0]
	l.head = l.head[:0]
}

// keepHead records the start of a line about to be skipped: the held part
// and then frag, up to HeadLen bytes.
func (l *LineReader) keepHead(frag []byte) {
	l.head = append(l.head[:0], l.buf[:min(len(l.buf), HeadLen)]...)
	if room := HeadLen - len(l.head); room > 0 {
		l.head = append(l.head, frag[:min(len(frag), room)]...)
	}
}

// hold keeps frag, part of a line not yet complete, unless the line is
// already too long.
func (l *LineReader) hold(frag []byte, maxLen int) {
	if l.skip {
		return
	}
	if len(l.buf)+len(frag) > maxLen {
		l.keepHead(frag)
		l.skip = true
		l.buf = l.buf[:0]
		return
	}
	l.buf = append(l.buf, frag...)
}

// atEnd handles the end of the input (or a read error) with nothing
// buffered: the held unterminated line is returned as a final line in scan
// mode, else io.EOF or the error.
func (l *LineReader) atEnd(err error, maxLen int) ([]byte, error) {
	if err != io.EOF || l.CompleteOnly || l.pend == 0 {
		return nil, err
	}
	// The final line: Offset does not move, the line has no line end
	// (or only a "\r" that a "\n" may still follow).
	l.lineNo++
	l.pend = 0
	l.cr = false
	if l.skip || len(l.buf) > maxLen {
		if !l.skip {
			l.keepHead(nil)
		}
		l.skip = false
		l.skipped()
		return nil, io.EOF
	}
	l.clear = true
	return l.buf, nil
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
