package logfile

import (
	"bytes"
	"strings"
)

// A Marker is a byte string that selects the lines containing it, with
// the index of its rarest byte (the anchor): the search looks for that
// byte and compares the rest of the marker around it, which skips most of
// the input at memchr speed.
type Marker struct {
	Text   string
	Anchor int
}

// A Filter selects lines for LineReader.NextMatch: the lines containing
// one of Markers, and the lines starting with one of the bytes of Starts.
// Markers must not contain a line end ("\n" or "\r"); an Anchor outside
// its Text is taken as 0.
type Filter struct {
	Markers []Marker
	Starts  string
}

// match is the state of NextMatch's search of one block: complete lines
// at the front of the read buffer with no "\r" and none over Max, read
// without being split into lines first.
type match struct {
	f       *Filter  // the filter streams search for
	streams []stream // one per distinct anchor byte
	block   []byte   // the block; valid until the reader refills
	pos     int      // how much of block is consumed
}

// A stream is the search for one anchor byte and the keys anchored on it.
type stream struct {
	c    byte
	keys []Marker // Anchor is the index of c in Text
	// next is the index in block of the first c at or after pos that is
	// the anchor of one of keys whose text starts at or after pos;
	// len(block) for none, -1 when not known.
	next int
}

// setFilter makes m search for f's lines: the markers, and "\n"+c for
// each byte c of f.Starts. A marker whose text holds another one's
// anchor byte once is searched with that byte ("sasl_method=" with the
// "h" of "auth"): one search less over the block.
func (m *match) setFilter(f *Filter) {
	m.f = f
	m.streams = m.streams[:0]
	keys := make([]Marker, 0, len(f.Markers)+len(f.Starts))
	for _, k := range f.Markers {
		if k.Anchor < 0 || k.Anchor >= len(k.Text) {
			k.Anchor = 0
		}
		if k.Text != "" {
			keys = append(keys, k)
		}
	}
	for i := 0; i < len(f.Starts); i++ {
		keys = append(keys, Marker{"\n" + f.Starts[i:i+1], 1})
	}
	for _, k := range keys {
		i := 0
		for ; i < len(m.streams); i++ {
			if c := m.streams[i].c; strings.Count(k.Text, string(c)) == 1 {
				k.Anchor = strings.IndexByte(k.Text, c)
				break
			}
		}
		if i == len(m.streams) {
			m.streams = append(m.streams, stream{c: k.Text[k.Anchor]})
		}
		m.streams[i].keys = append(m.streams[i].keys, k)
	}
	m.block, m.pos = nil, 0
}

// find returns the index in m.block of the first anchor of s at or after
// from whose key's text starts at or after from, or len(m.block).
func (m *match) find(s *stream, from int) int {
	b := m.block
	for i := from; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], s.c)
		if j < 0 {
			break
		}
		i += j
		for _, k := range s.keys {
			if st := i - k.Anchor; st >= from && st+len(k.Text) <= len(b) && string(b[st:st+len(k.Text)]) == k.Text {
				return i
			}
		}
	}
	return len(b)
}

// NextMatch returns the next line that f selects, passing over the lines
// before it that f does not select: skipped counts them and skippedBytes
// their bytes with their line ends. It may also return lines f does not
// select (it reads line by line, as Next, at the edges of its read buffer,
// around a "\r" and around over-long lines), so the caller still judges
// each line it gets. Line numbers, Offset, Long and OnLong are exactly as
// with Next, as are the errors; the line is valid until the next call.
// Calls of NextMatch and Next may be mixed; f must not change between
// calls of NextMatch while its lines are read.
func (l *LineReader) NextMatch(f *Filter) (line []byte, skipped int, skippedBytes int64, err error) {
	if l.clear {
		l.buf = l.buf[:0]
		l.clear = false
	}
	m := &l.m
	if m.f != f {
		m.setFilter(f)
	}
	for {
		if m.pos >= len(m.block) && !l.newBlock() {
			// At a buffer edge, a "\r", an over-long line, the end:
			// one line as Next reads it.
			line, err = l.Next()
			return line, skipped, skippedBytes, err
		}
		b := m.block
		at := len(b)
		// The line at pos starts after a line end not in the search.
		if len(f.Starts) > 0 && strings.IndexByte(f.Starts, b[m.pos]) >= 0 {
			at = m.pos
		}
		for i := range m.streams {
			s := &m.streams[i]
			if s.next < m.pos {
				s.next = m.find(s, m.pos)
			}
			at = min(at, s.next)
		}
		if at == len(b) {
			n := bytes.Count(b[m.pos:], []byte{'\n'})
			skipped += n
			skippedBytes += int64(len(b) - m.pos)
			l.consume(n, len(b)-m.pos)
			continue
		}
		start := bytes.LastIndexByte(b[m.pos:at], '\n') + 1 + m.pos
		if start > m.pos {
			n := bytes.Count(b[m.pos:start], []byte{'\n'})
			skipped += n
			skippedBytes += int64(start - m.pos)
			l.consume(n, start-m.pos)
		}
		end := bytes.IndexByte(b[at:], '\n') + at // the block ends with "\n"
		line = b[start:end]
		l.consume(1, end+1-start)
		return line, skipped, skippedBytes, nil
	}
}

// consume passes over n lines of size bytes at the front of the block.
func (l *LineReader) consume(n, size int) {
	l.lineNo += n
	l.offset += int64(size)
	l.m.pos += size
	// Discarding buffered bytes does not overwrite them: the block and
	// the line returned stay valid until the next read.
	l.br.Discard(size)
}

// newBlock makes the complete lines at the front of the read buffer the
// block to search, up to the first "\r" and no longer than Max+1 bytes (so
// no line in it is over-long). It reports false when there is no such
// line: a line is partly held, or the buffer starts with a "\r", an
// over-long line or a line not read to its end.
func (l *LineReader) newBlock() bool {
	m := &l.m
	m.block, m.pos = nil, 0
	if l.cr || l.skip || l.pend > 0 || len(l.buf) > 0 {
		return false
	}
	maxLen := l.Max
	if maxLen <= 0 {
		maxLen = DefaultMax
	}
	b, _ := l.br.Peek(l.br.Buffered())
	b = b[:min(len(b), maxLen+1)]
	if i := bytes.IndexByte(b, '\r'); i >= 0 {
		b = b[:i]
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return false
	}
	m.block = b[:end+1]
	for i := range m.streams {
		m.streams[i].next = -1
	}
	return true
}
