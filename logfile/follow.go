package logfile

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// DefaultInterval is the default FollowOptions.Interval.
const DefaultInterval = 250 * time.Millisecond

// FollowOptions configure a Follower. The zero value polls every
// DefaultInterval and starts at the beginning of the file.
type FollowOptions struct {
	// Interval is how long to wait at the end of the file before looking
	// again. Zero means DefaultInterval.
	Interval time.Duration
	// Entry, if not zero, is a saved position to continue from, exactly
	// as Resume does (rotated generations first). It takes precedence
	// over FromEnd.
	Entry Entry
	// FromEnd starts after the last complete line of the file as it is
	// when first opened, instead of at its start. A file created later
	// (or after a rotation) is always read from its start.
	FromEnd bool
	// Max is LineReader.Max for every generation; zero means DefaultMax.
	Max int
}

// A Follower reads a growing log line by line, like tail -F, through
// logrotate's rename+create and copytruncate rotations. It polls: there
// are no goroutines, and every wait happens inside Next. A Follower is not
// safe for concurrent use.
//
// Rotation handling:
//
//   - rename+create: when a different, non-empty file appears at the
//     path, the old generation (still open) is drained to its end, a
//     final unterminated line included, then the new file is read from
//     the start. While the new file is still empty the old one is kept
//     and read, since the writer may not have reopened yet.
//   - copytruncate: when the file is shorter than the position read, or
//     its first bytes no longer carry the fingerprint, or the bytes before
//     the position it had at the previous poll changed (truncated and
//     regrown past the old position), the rest of the old content is read
//     from the rotated copy if one carries the fingerprint, then the file
//     is read again from the start.
//   - a missing file is waited for.
//
// Two rotations within one poll interval are caught up with when the
// rotated generations keep their names (mail.log.1 → mail.log.2 or
// dated names): the followed generation is found among them by its
// fingerprint and the ones rotated in after it are read before the new
// file; so is a generation seen at the path at one poll and rotated away
// before it was opened (found by its device and inode). Only a rotation
// scheme that keeps too few generations, so that the followed one is
// renamed over, loses the ones in between.
type Follower struct {
	path    string
	opts    FollowOptions
	started bool
	queue   []*segment // finished generations still to drain, oldest first
	cur     *segment   // the generation at path, being followed
	fp      fingerprint
	mark    fingerprint // of the bytes before markOff in cur, at the last check
	markOff int64
	last    *segment // where the last line came from
	long    int      // over-long lines skipped in closed generations
	broken  bool     // reading queue[0] failed: give it up on the next call
	// next is the identity of the file seen at path when a rotation was
	// noticed: the generation to read after the old one, even if it was
	// rotated away again before it could be opened.
	next struct {
		dev, ino uint64
		set      bool
	}
}

// Follow returns a Follower for path. Nothing is opened until the first
// call to Next.
func Follow(path string, opts FollowOptions) *Follower {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	return &Follower{path: path, opts: opts}
}

// Next returns the next complete line, waiting for one as long as needed.
// The line is valid until the next call. When ctx is done it returns
// ctx.Err(); the position is then just past the last line returned, and
// Next may be called again with a new context. Errors other than a
// missing file are returned; they name the file. After a read error in a
// rotated generation being drained (a .gz cut short), calling Next again
// gives up the rest of that generation, as Resumer.Next does; an error
// opening the file at the path (unreadable) is returned again on each
// call until it is fixed.
func (f *Follower) Next(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !f.started {
		if err := f.start(); err != nil {
			return nil, err
		}
		f.started = true
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(f.queue) > 0 {
			s := f.queue[0]
			line, err := s.lr.Next()
			if err == nil {
				f.broken = false
				f.setLast(s)
				return line, nil
			}
			if err != io.EOF && !f.broken {
				// Entry stays in s until the error was seen; the next
				// call gives up the unreadable rest of it.
				f.broken = true
				return nil, err
			}
			f.broken = false
			f.queue = f.queue[1:]
			if s != f.last {
				f.drop(s)
			}
			continue
		}
		if f.cur == nil {
			ok, err := f.open()
			if err != nil {
				return nil, err
			}
			if !ok {
				if err := f.wait(ctx); err != nil {
					return nil, err
				}
			}
			continue // open may have queued generations to read first
		}
		line, err := f.cur.lr.Next()
		if err == nil {
			f.setLast(f.cur)
			return line, nil
		}
		if err != io.EOF {
			return nil, err
		}
		// At the end: wait, then look for a rotation or truncation
		// before reading what was written meanwhile, so content
		// rewritten after a truncation is never read from the old offset.
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
		if err := f.check(); err != nil {
			return nil, err
		}
	}
}

// setLast records s as the source of the last line, closing the previous
// source if it is finished.
func (f *Follower) setLast(s *segment) {
	if f.last != nil && f.last != s && f.last != f.cur && !contains(f.queue, f.last) {
		f.drop(f.last)
	}
	f.last = s
}

// drop closes a finished generation, keeping its count of long lines.
func (f *Follower) drop(s *segment) {
	f.long += s.lr.Long()
	s.close()
}

func contains(segs []*segment, s *segment) bool {
	for _, q := range segs {
		if q == s {
			return true
		}
	}
	return false
}

// start opens the initial generations.
func (f *Follower) start() error {
	if !f.opts.Entry.IsZero() {
		segs, err := resolve(f.path, f.opts.Entry)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, s := range segs {
			s.lr.Max = f.opts.Max
		}
		if last := segs[len(segs)-1]; last.current {
			f.adopt(last)
			segs = segs[:len(segs)-1]
		}
		for _, s := range segs {
			s.lr.CompleteOnly = false
		}
		f.queue = segs
		return nil
	}
	ok, err := f.open()
	if err != nil || !ok || !f.opts.FromEnd {
		return err
	}
	off, lines, err := endOf(f.cur.in)
	if err != nil {
		return err
	}
	return f.cur.seek(off, lines)
}

// open opens the file at the path as the followed generation, reporting
// false if it does not exist.
func (f *Follower) open() (bool, error) {
	s, err := openSegment(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.current = true
	s.lr.Max = f.opts.Max
	if f.next.set && (s.dev != f.next.dev || s.ino != f.next.ino) {
		// The generation seen at the last check was rotated away before
		// it was opened: read it (and any rotated in after it) first.
		e := Entry{Path: f.path, Dev: f.next.dev, Inode: f.next.ino}
		if segs, err := rotated(f.path, e, s.dev, s.ino); err == nil {
			for _, g := range segs {
				g.lr.CompleteOnly = false
				g.lr.Max = f.opts.Max
			}
			f.queue = append(f.queue, segs...)
		}
	}
	f.next.set = false
	f.adopt(s)
	return true, nil
}

// adopt makes s the followed generation.
func (f *Follower) adopt(s *segment) {
	f.cur = s
	f.fp, _ = fingerprintOf(s.in.File(), s.in.codec)
	f.mark, f.markOff = fingerprint{}, 0
}

// check looks at the path after the followed generation reached its end
// and handles a rotation or truncation.
func (f *Follower) check() error {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // renamed, not yet re-created: keep the old fd
	}
	if err != nil {
		return err
	}
	dev, ino := fileID(fi)
	if dev != f.cur.dev || ino != f.cur.ino {
		if fi.Size() == 0 {
			return nil // the writer has not moved yet
		}
		// Rotated: drain the old generation, last partial line included,
		// then any generation rotated in after it and before the file now
		// at the path (two rotations within one poll interval).
		f.cur.lr.CompleteOnly = false
		f.queue = append(f.queue, f.cur)
		f.queue = append(f.queue, f.missed(dev, ino)...)
		f.cur = nil
		f.next.dev, f.next.ino, f.next.set = dev, ino, dev != 0 || ino != 0
		return nil
	}
	pos, err := f.cur.in.File().Seek(0, io.SeekCurrent)
	if err != nil || f.cur.gz() {
		return err
	}
	truncated := fi.Size() < pos
	if !truncated {
		ok, err := f.fp.matches(f.cur.in.File(), plain)
		if err != nil {
			return err
		}
		truncated = !ok
	}
	if !truncated && f.markOff > 0 {
		// The bytes before the position checked last time must still be
		// there: this catches a truncation that regrew past the position
		// with the same first bytes (a header repeated at each rotation).
		t, err := tailAt(f.cur.in.File(), plain, f.markOff, f.mark.n)
		truncated = err != nil || t.sum != f.mark.sum
	}
	off := f.cur.lr.Offset()
	if !truncated {
		if f.fp.n < FingerprintLen && fi.Size() > int64(f.fp.n) {
			f.fp, _ = fingerprintOf(f.cur.in.File(), plain)
		}
		if off != f.markOff {
			f.mark, _ = tailAt(f.cur.in.File(), plain, off, int(min(off, FingerprintLen)))
			f.markOff = int64(f.mark.n) // 0 if it failed
			if f.markOff > 0 {
				f.markOff = off
			}
		}
		return nil
	}
	// Copytruncate: finish the old content from its copy, if any.
	e := Entry{Path: f.path, Dev: f.cur.dev, Inode: f.cur.ino, Offset: off,
		Line: f.cur.lr.LineNo(), FPLen: f.fp.n, FP: f.fp.hex()}
	if f.markOff == off && f.mark.n > 0 {
		e.TailLen, e.Tail = f.mark.n, f.mark.hex()
	}
	if f.fp.n > 0 {
		if segs, err := rotated(f.path, e, f.cur.dev, f.cur.ino); err == nil {
			for _, s := range segs[min(1, len(segs)):] {
				s.close() // only the copy itself; newer ones were read already
			}
			if len(segs) > 0 {
				segs[0].lr.CompleteOnly = false
				segs[0].lr.Max = f.opts.Max
				f.queue = append(f.queue, segs[0])
			}
		}
	}
	if err := f.cur.seek(0, 0); err != nil {
		return err
	}
	f.fp, _ = fingerprintOf(f.cur.in.File(), plain)
	f.mark, f.markOff = fingerprint{}, 0
	return nil
}

// missed returns the rotated generations newer than the followed one,
// oldest first, skipping the file now at the path (dev, ino): found by the
// followed generation's fingerprint among the path's siblings, as Resume
// does. It returns nothing when the followed generation is no longer
// among them (deleted, or renamed over).
func (f *Follower) missed(dev, ino uint64) []*segment {
	segs, err := rotated(f.path, f.cur.entry(f.path), dev, ino)
	if err != nil || len(segs) == 0 {
		return nil
	}
	segs[0].close() // the followed generation itself, read through f.cur
	newer := segs[1:]
	for _, s := range newer {
		s.lr.CompleteOnly = false
		s.lr.Max = f.opts.Max
	}
	return newer
}

// wait sleeps for the poll interval or until ctx is done.
func (f *Follower) wait(ctx context.Context) error {
	t := time.NewTimer(f.opts.Interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// src returns the generation the last line came from, or the one being
// read next.
func (f *Follower) src() *segment {
	switch {
	case f.last != nil:
		return f.last
	case len(f.queue) > 0:
		return f.queue[0]
	}
	return f.cur
}

// Name returns the file name of the generation the last line came from.
// After a rename rotation it is still the path: a generation is named by
// the path it was opened as.
func (f *Follower) Name() string {
	if s := f.src(); s != nil {
		return s.name()
	}
	return f.path
}

// LineNo returns the line number of the last line within its generation.
func (f *Follower) LineNo() int {
	if s := f.src(); s != nil {
		return s.lr.LineNo()
	}
	return 0
}

// Long returns how many over-long lines were skipped so far.
func (f *Follower) Long() int {
	n := f.long
	for _, s := range f.live() {
		n += s.lr.Long()
	}
	return n
}

// live returns the open generations, each once.
func (f *Follower) live() []*segment {
	var out []*segment
	for _, s := range append([]*segment{f.last, f.cur}, f.queue...) {
		if s != nil && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Entry returns the position to save: just past the last line returned,
// or, while a finished generation is still being drained, the position in
// it. Resume or Follow with it continues after the last line returned.
func (f *Follower) Entry() Entry {
	switch {
	case len(f.queue) > 0:
		return f.queue[0].entry(f.path)
	case f.cur != nil:
		return f.cur.entry(f.path)
	case f.last != nil:
		return f.last.entry(f.path)
	}
	return f.opts.Entry
}

// Close closes the open generations. The Follower must not be used
// afterwards.
func (f *Follower) Close() error {
	var err error
	for _, s := range f.live() {
		f.long += s.lr.Long()
		if cerr := s.in.Close(); err == nil {
			err = cerr
		}
	}
	f.cur, f.last, f.queue = nil, nil, nil
	return err
}
