package main

import (
	"io"
	"sync"

	"github.com/mailaudit/mailaudit/logfile"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// batchLen is how many kept events a batch carries from the reading
// goroutine to the handling one: one channel send per batch, not per
// event.
const batchLen = 512

// item is one kept event with its origin.
type item struct {
	ev parse.Event
	o  ipranges.Origin
}

// batch is what the reading goroutine passes on: kept events in file
// order, and the error that ended the reading (io.EOF at the end), if
// this is the last batch.
type batch struct {
	items []item
	err   error
}

// runParallel is run for a whole file read to its end. Reading,
// splitting, parsing, classifying, filtering and the summary (with the
// line counts, the malformed and the over-long lines) run on one
// goroutine, which hands batches of events to the calling one for the
// users' record, the metrics, the event output and the rules. For a
// readerSource, reading, splitting and the block search (splitLines) run
// on a third goroutine, which hands the lines in batches to the parsing
// one. Each side sees every event in file order, as run does, so the
// output is the same.
func (p *pipeline) runParallel(src lineSource) error {
	longBefore := src.Long()
	read := src
	if rs, ok := src.(readerSource); ok {
		var stop func()
		read, stop = p.split(rs)
		defer stop()
	}
	full := make(chan *batch, 4)
	free := make(chan *batch, 6)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(full)
		p.readBatches(read, full, free, done)
	}()
	var err error
	for b := range full {
		if err == nil {
			if err = p.actBatch(b); err != nil {
				close(done)
			}
		}
		b.items = b.items[:0]
		select {
		case free <- b:
		default:
		}
	}
	<-finished
	if b, ok := read.(*batchSource); ok {
		b.stop() // the LineReader is done with before its count is read
	}
	p.sum.LongLines += int64(src.Long() - longBefore)
	return err
}

// split starts splitLines on rs's LineReader and returns the source the
// parsing goroutine reads, and a function that stops splitLines (it is
// called by then) and waits for it.
func (p *pipeline) split(rs readerSource) (*batchSource, func()) {
	lr := rs.lineReader()
	onLong := lr.OnLong
	full := make(chan *lineBatch, 4)
	free := make(chan *lineBatch, 6)
	done := make(chan struct{})
	finished := make(chan struct{})
	// Its own parser for the mail-program check: a Parser is not safe
	// for concurrent use (the check uses only its settings).
	mp := parse.Parser{Year: p.parser.Year, Location: p.parser.Location, Now: p.parser.Now,
		DovecotFile: p.parser.DovecotFile, LoginFormat: p.parser.LoginFormat}
	go func() {
		defer close(finished)
		splitLines(lr, mp, full, free, done)
	}()
	var once sync.Once
	src := &batchSource{name: rs.Name(), full: full, free: free, onLong: onLong, passed: p.passed}
	src.stop = func() {
		once.Do(func() {
			close(done)
			<-finished
			lr.OnLong = onLong
		})
	}
	return src, src.stop
}

// actBatch acts on b's events in order, and returns the reading error
// it ends with (none for io.EOF).
func (p *pipeline) actBatch(b *batch) error {
	for i := range b.items {
		if err := p.act(b.items[i].ev, b.items[i].o); err != nil {
			return err
		}
	}
	if b.err == io.EOF {
		return nil
	}
	return b.err
}

// readBatches reads src to its end on its own goroutine, sending batches
// to full until done is closed. It touches only the reading side of the
// pipeline: the parser, the classifier, the filters, the summary, the
// input checks, the progress and the atomic metrics counters.
func (p *pipeline) readBatches(src lineSource, full, free chan *batch, done chan struct{}) {
	next := func() *batch {
		select {
		case b := <-free:
			return b
		default:
			return &batch{items: make([]item, 0, batchLen)}
		}
	}
	b := next()
	send := func() bool {
		if !offer(full, done, b) {
			return false
		}
		b = next()
		return true
	}
	for {
		ev, err := p.nextEvent(&p.parser, src)
		if err != nil {
			b.err = err
			send()
			return
		}
		o, ok := p.record(ev)
		if !ok {
			continue
		}
		b.items = append(b.items, item{ev, o})
		if len(b.items) >= batchLen && !send() {
			return
		}
	}
}

// A readerSource is a lineSource read by a LineReader that runParallel
// may drive from a goroutine of its own: splitting the lines and passing
// over the ones no parser can use (the block search) on one, parsing on
// another. Its Name does not change while it is read.
type readerSource interface {
	lineSource
	lineReader() *logfile.LineReader
}

func (s *fileSource) lineReader() *logfile.LineReader { return s.lr }

// rawLen is how many bytes of lines a lineBatch carries, about.
const rawLen = 64 << 10

// rawLine is one entry of a lineBatch: a line (or, with long set, the
// head of an over-long line skipped, for OnLong) and the lines passed
// over before it.
type rawLine struct {
	start, end   int // the bytes in lineBatch.buf
	no           int // its line number
	long         bool
	skipped      int
	skippedBytes int64
}

// lineBatch is what the splitting goroutine passes to the parsing one:
// lines in file order, and the error that ended the reading (io.EOF at
// the end) in the last batch, after the lines passed over before it.
type lineBatch struct {
	buf   []byte
	lines []rawLine
	err   error
	errNo int // the line number when err came
	// skipped lines before err.
	skipped      int
	skippedBytes int64
}

// splitLines reads src's LineReader to its end on its own goroutine,
// sending the lines to full until done is closed. It reads every line
// until one comes from a mail program (the input check looks at each),
// then passes over the lines the parser's markers rule out. It touches
// nothing of the pipeline: over-long lines are handed on for the parsing
// goroutine's OnLong, in their place.
func splitLines(lr *logfile.LineReader, parser parse.Parser, full, free chan *lineBatch, done chan struct{}) {
	next := func() *lineBatch {
		select {
		case b := <-free:
			return b
		default:
			return &lineBatch{buf: make([]byte, 0, rawLen+4096), lines: make([]rawLine, 0, 1024)}
		}
	}
	b := next()
	send := func() bool {
		if !offer(full, done, b) {
			return false
		}
		b = next()
		return true
	}
	lr.OnLong = func(no int, head []byte) {
		start := len(b.buf)
		b.buf = append(b.buf, head...)
		b.lines = append(b.lines, rawLine{start: start, end: len(b.buf), no: no, long: true})
	}
	mail := false
	for {
		var line []byte
		var err error
		n, size := 0, int64(0)
		if mail {
			line, n, size, err = lr.NextMatch(lineFilter)
		} else {
			line, err = lr.Next()
		}
		if err != nil {
			b.err, b.errNo, b.skipped, b.skippedBytes = err, lr.LineNo(), n, size
			send()
			return
		}
		if !mail {
			_, mail = parser.MailProgram(line)
		}
		start := len(b.buf)
		b.buf = append(b.buf, line...)
		b.lines = append(b.lines, rawLine{start: start, end: len(b.buf), no: lr.LineNo(), skipped: n, skippedBytes: size})
		if len(b.buf) >= rawLen && !send() {
			return
		}
	}
}

// batchSource is the lineSource of the parsing goroutine: the lines
// splitLines sent, with what its LineReader saw.
type batchSource struct {
	name   string
	full   chan *lineBatch
	free   chan *lineBatch
	onLong func(int, []byte)
	// passed counts the lines passed over when Next (not NextMatch) is
	// called after some were.
	passed func(n int, size int64)
	stop   func()
	b      *lineBatch
	i      int
	no     int
}

func (s *batchSource) Name() string { return s.name }
func (s *batchSource) LineNo() int  { return s.no }
func (s *batchSource) Long() int    { return 0 } // counted by the LineReader

func (s *batchSource) Next() ([]byte, error) {
	line, n, size, err := s.NextMatch()
	if n > 0 {
		s.passed(n, size)
	}
	return line, err
}

func (s *batchSource) NextMatch() (line []byte, skipped int, skippedBytes int64, err error) {
	for {
		if s.b == nil {
			b, ok := <-s.full
			if !ok {
				return nil, skipped, skippedBytes, io.ErrUnexpectedEOF // not sent: cannot happen
			}
			s.b, s.i = b, 0
		}
		b := s.b
		if s.i == len(b.lines) {
			if b.err != nil {
				s.no = b.errNo
				return nil, skipped + b.skipped, skippedBytes + b.skippedBytes, b.err
			}
			b.buf, b.lines = b.buf[:0], b.lines[:0]
			select {
			case s.free <- b:
			default:
			}
			s.b = nil
			continue
		}
		r := b.lines[s.i]
		s.i++
		skipped += r.skipped
		skippedBytes += r.skippedBytes
		if r.long {
			if s.onLong != nil {
				s.onLong(r.no, b.buf[r.start:r.end])
			}
			continue
		}
		s.no = r.no
		return b.buf[r.start:r.end], skipped, skippedBytes, nil
	}
}

// offer sends b on full unless done is closed, which is checked first: a
// select picks at random among ready cases.
func offer[T any](full chan<- T, done <-chan struct{}, b T) bool {
	select {
	case <-done:
		return false
	default:
	}
	select {
	case full <- b:
		return true
	case <-done:
		return false
	}
}
