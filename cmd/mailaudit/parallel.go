package main

import (
	"io"

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

// runParallel is run for a whole file read to its end, on two goroutines
// with batches between them: reading, splitting, parsing, classifying,
// filtering and the summary (with the line counts, the malformed and the
// over-long lines) on one; the users' record, the metrics, the event
// output and the rules on the calling one. Each side sees every event in
// file order, as run does, so the output is the same.
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
	p.sum.LongLines += int64(src.Long() - longBefore)
	return err
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
