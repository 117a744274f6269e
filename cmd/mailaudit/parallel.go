package main

import (
	"context"
	"errors"
	"io"

	"github.com/mailaudit/mailaudit/parse"
)

// batchLen is how many events (and malformed lines) a batch carries from
// the reading goroutine to the handling one: one channel send per batch,
// not per event.
const batchLen = 512

// item is one line that mattered: an event to handle, or a malformed
// line (st Malformed) to record.
type item struct {
	ev parse.Event
	st parse.Status
}

// batch is what the reading goroutine passes on: the items of a run of
// lines in file order, how many lines that run had, and the error that
// ended the reading (io.EOF at the end), if this is the last batch.
type batch struct {
	items []item
	lines int64
	err   error
}

// runParallel is run for a whole file read to its end: reading, splitting
// and parsing on one goroutine, and classifying, the summary, the rules
// and the output on the calling one, in batches. Every event and every
// malformed line is handled in file order, exactly as run would.
func (p *pipeline) runParallel(src lineSource) error {
	longBefore := src.Long()
	full := make(chan *batch, 4)
	free := make(chan *batch, 6)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(full)
		p.readBatches(src, full, free, done)
	}()
	var err error
	for b := range full {
		if err == nil {
			err = p.handleBatch(b)
			if err != nil {
				close(done)
			}
		}
		b.items, b.lines = b.items[:0], 0
		select {
		case free <- b:
		default:
		}
	}
	<-finished
	p.pending = nil
	p.sum.LongLines += int64(src.Long() - longBefore)
	return err
}

// handleBatch records b's lines, malformed lines and events in order, and
// returns the reading error it ends with (none for io.EOF).
func (p *pipeline) handleBatch(b *batch) error {
	p.sum.Lines += b.lines
	for i := range b.items {
		it := &b.items[i]
		if it.st == parse.Malformed {
			p.malformed++
			p.sum.AddMalformed(it.ev)
			continue
		}
		if err := p.handle(it.ev); err != nil {
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
// pipeline: the parser, the input checks, the progress and the atomic
// metrics counters; p.pending collects malformed over-long lines
// (longLine) in their place among the events.
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
	p.pending = b
	send := func() bool {
		select {
		case <-done: // select picks at random among ready cases
			return false
		default:
		}
		select {
		case full <- b:
		case <-done:
			return false
		}
		b = next()
		p.pending = b
		return true
	}
	m := p.met()
	for {
		line, err := src.Next()
		if err != nil {
			if err != io.EOF && !errors.Is(err, context.Canceled) {
				err = readError(src, err)
			}
			b.err = err
			send()
			return
		}
		b.lines++
		if m != nil {
			m.lines.Add(1)
		}
		if p.prog != nil {
			p.prog.tick(len(line) + 1)
		}
		ev, st := p.parser.Parse(line)
		if c := p.in; c != nil {
			c.lines++
			if !c.mail {
				_, c.mail = p.parser.MailProgram(line)
				c.mail = c.mail || st != parse.Ignored
			}
		}
		if st == parse.Ignored {
			continue
		}
		ev.File, ev.Line = src.Name(), src.LineNo()
		if st == parse.Malformed && m != nil {
			m.malformed.Add(1)
		}
		b.items = append(b.items, item{ev, st})
		if len(b.items) >= batchLen && !send() {
			return
		}
	}
}
