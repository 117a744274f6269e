package logfile

import (
	"context"
	"crypto/sha256"
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
	// OnLong is LineReader.OnLong for every generation.
	OnLong func(line int, head []byte)
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
	guard   *guard   // cur's reads, when it is a plain file
	seen    []byte   // the first bytes of the file unread last looked at
	last    *segment // where the last line came from
	long    int      // over-long lines skipped in closed generations
	broken  bool     // reading queue[0] failed: give it up on the next call
	// next is the identity of the file seen at path when a rotation was
	// noticed: the generation to read after the old one, even if it was
	// rotated away again before it could be opened.
	// prev identifies the newest rotated generation queued for reading
	// when the path was left (device, inode, fingerprint): when the file
	// at the path is opened, every generation rotated in after it (while
	// the queue drained, or before the file could be opened) is read
	// first.
	prev struct {
		e    Entry
		set  bool
		none bool // there was no rotated generation: any one is new
	}
	gap *GapError // not yet taken by Gap
}

// Gap returns, once, a *GapError when lines were found missing: the
// generation holding the position being read (or the saved Entry) was
// rotated away or deleted before it could be read to its end. It returns
// nil otherwise. Call it after Next to report such losses.
func (f *Follower) Gap() error {
	if f.gap == nil {
		return nil
	}
	g := f.gap
	f.gap = nil
	return g
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
		// At the end: note the bytes before the position, wait, then
		// look for a rotation or truncation before reading what was
		// written meanwhile, so content rewritten after a truncation is
		// never read from the old offset.
		f.markPosition()
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
		segs, gap, err := resolve(f.path, f.opts.Entry)
		if gap != nil {
			f.gap = gap
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, s := range segs {
			f.prep(s)
		}
		if last := segs[len(segs)-1]; last.current {
			last.lr.CompleteOnly = true
			f.adopt(last)
			segs = segs[:len(segs)-1]
		}
		f.queue = segs
		return nil
	}
	if names, err := siblings(f.path); err == nil {
		if len(names) == 0 {
			f.prev.none = true
		} else if g, err := openSegment(names[0]); err == nil {
			f.setPrev([]*segment{g})
			g.close()
		}
	}
	ok, err := f.open()
	if err != nil || !ok || !f.opts.FromEnd {
		return err
	}
	off, lines, err := endOf(f.cur.in)
	if err != nil {
		return err
	}
	if err := f.cur.seek(off, lines); err != nil {
		return err
	}
	if !f.cur.gz() {
		f.watch()
	}
	return nil
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
	f.prep(s)
	s.lr.CompleteOnly = true
	f.seen = nil
	// Generations rotated in after the last one queued (renamed away,
	// or copied away and truncated, before the file at the path could be
	// opened) come first. The file's first bytes are taken before looking
	// and compared after: a copytruncate in between is looked for again.
	for range 8 {
		before, err := fingerprintOf(s.in.File(), s.in.codec)
		if err != nil {
			break
		}
		f.queue = append(f.queue, f.unread(s)...)
		if ok, err := before.matches(s.in.File(), s.in.codec); err != nil || ok {
			break
		}
	}
	f.adopt(s)
	return true, nil
}

// prep sets up a generation opened by the Follower: Max, OnLong, and every
// line returned (a generation opened here other than the current file is
// finished; open sets CompleteOnly back for the current one).
func (f *Follower) prep(s *segment) {
	s.lr.Max = f.opts.Max
	s.lr.OnLong = f.opts.OnLong
	s.lr.CompleteOnly = false
}

// adopt makes s the followed generation.
func (f *Follower) adopt(s *segment) {
	f.cur = s
	f.mark, f.markOff = fingerprint{}, 0
	f.guard = nil
	if s.gz() {
		f.fp, _ = fingerprintOf(s.in.File(), s.in.codec)
		return
	}
	f.watch()
}

// watch guards cur's reads from its current position on (nothing of it
// may be buffered yet) and takes its fingerprint from the guard.
func (f *Follower) watch() {
	s := f.cur
	f.guard = newGuard(s, s.lr.Offset(), f.seen)
	f.seen = nil
	s.lr.reset(f.guard, s.lr.Offset(), s.lr.LineNo())
	f.fp = f.guard.fingerprint()
}

// markPosition records the bytes just before the position reached in
// the followed generation, so check can tell whether they are still there.
func (f *Follower) markPosition() {
	if f.guard != nil && len(f.guard.head) > f.fp.n {
		f.fp = f.guard.fingerprint() // more of the first bytes were read
	}
	off := f.cur.lr.Offset()
	if f.cur.gz() || off == f.markOff {
		return
	}
	f.mark, f.markOff = fingerprint{}, 0
	if off == 0 {
		return
	}
	n := int(min(off, FingerprintLen))
	if f.guard != nil {
		if m, ok := f.guard.tail(off, n); ok {
			f.mark, f.markOff = m, off
			return
		}
	}
	// Not kept (a line held back is very long): from the file, which
	// must still start as read afterwards.
	if m, err := tailAt(f.cur.in.File(), plain, off, n); err == nil && (f.guard == nil || f.guard.intact()) {
		f.mark, f.markOff = m, off
	}
}

// position returns the Entry of the position reached in the followed
// generation, with the fingerprint and position check taken while its
// content was there (the file may have been truncated since).
func (f *Follower) position() Entry {
	off := f.cur.lr.Offset()
	e := Entry{Path: f.path, Dev: f.cur.dev, Inode: f.cur.ino, Offset: off,
		Line: f.cur.lr.LineNo(), FPLen: f.fp.n, FP: f.fp.hex()}
	if f.markOff == off && f.mark.n > 0 {
		e.TailLen, e.Tail = f.mark.n, f.mark.hex()
	}
	return e
}

// intact reports whether the followed generation's open file still holds
// what was read from it: as long, the same first bytes, the same bytes
// before the marked position.
func (f *Follower) intact() (bool, error) {
	if f.cur.gz() {
		return true, nil
	}
	fi, err := f.cur.in.File().Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() < f.cur.lr.Offset() {
		return false, nil
	}
	if ok, err := f.fp.matches(f.cur.in.File(), plain); err != nil || !ok {
		return false, err
	}
	if f.markOff > 0 {
		t, err := tailAt(f.cur.in.File(), plain, f.markOff, f.mark.n)
		if err != nil || t.sum != f.mark.sum {
			return false, nil
		}
	}
	return true, nil
}

// check looks at the path after the followed generation reached its end
// and handles rotations and truncations, as Resume does across runs: the
// generation holding the position is found by its fingerprint and
// position check (its own open file if that still holds it, else the
// rotated copy a copytruncate made), then every generation rotated in
// after it, then the file now at the path. Several rotations of any kind
// within one poll interval are caught up with this way.
func (f *Follower) check() error {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // renamed, not yet re-created: keep the old fd
	}
	if err != nil {
		return err
	}
	dev, ino := fileID(fi)
	same := dev == f.cur.dev && ino == f.cur.ino
	intact, err := f.intact()
	if err != nil {
		return err
	}
	if f.guard != nil && f.guard.cut {
		intact = false // it saw the file rewritten: never read on from it
	}
	switch {
	case same && intact:
		if f.cur.lr.Offset() == 0 {
			// A generation written and copied away whole while nothing
			// of it had been read leaves no trace in the open file: it
			// shows as a rotated generation newer than the last one
			// queued.
			f.queue = append(f.queue, f.unread(f.cur)...)
			if f.guard != nil {
				f.guard.anchor(f.seen)
			}
			f.seen = nil
		}
		if f.guard != nil && len(f.guard.head) > f.fp.n {
			f.fp = f.guard.fingerprint() // more of the first bytes were read
		}
		return nil
	case !same && intact && fi.Size() == 0:
		// A new, empty file: the writer may not have moved yet.
		if f.cur.lr.Offset() == 0 && f.fp.n == 0 && f.guard != nil {
			// Nothing of the followed file read or known: what was
			// copied away from it meanwhile comes first, then it is
			// read from its first bytes as taken now.
			f.queue = append(f.queue, f.unread(f.cur)...)
			f.guard.anchor(f.seen)
			f.seen = nil
		}
		return nil
	}
	if !same && intact && fi.Size() > 0 && f.cur.lr.Offset() == 0 && f.fp.n == 0 {
		// Renamed away before anything of it was read, and it was
		// empty when opened: what it held before may have been copied
		// away (copytruncate) meanwhile. The generations rotated in
		// since the last one queued, up to its own content, come first.
		f.queue = append(f.queue, f.unread(f.cur)...)
		if f.guard != nil {
			f.guard.anchor(f.seen)
		}
		f.seen = nil
	}
	e := f.position()
	var segs []*segment
	if intact {
		// Renamed away: its open file is read to the end, the last
		// partial line included, then the generations rotated in after
		// it.
		f.cur.lr.CompleteOnly = false
		segs = append([]*segment{f.cur}, f.newer(e, dev, ino)...)
	} else {
		// Truncated (copytruncate), perhaps renamed since: the rest is in
		// the rotated copy.
		found, err := rotated(f.path, e, dev, ino)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			f.gap = &GapError{Path: f.path, Entry: e}
		}
		if len(found) > 1 {
			found = append(found[:1], settled(found[1:], headAt(f.path))...)
		}
		for _, g := range found {
			f.prep(g)
		}
		segs = found
	}
	f.queue = append(f.queue, segs...)
	f.setPrev(segs)
	// The file at the path (copytruncated in place, or a new one) is
	// opened again once the queue is drained, reading first whatever was
	// rotated away meanwhile.
	if f.cur != f.last && (!intact || same) {
		f.drop(f.cur)
	}
	f.cur = nil
	return nil
}

// unread returns the rotated generations newer than prev (all of them
// when there was none), oldest first, skipping the file at the path, cur,
// and copies of it still in progress (a copytruncate that has copied but
// not yet truncated), and makes the newest of them prev. It returns
// nothing when prev is unknown or no longer found.
func (f *Follower) unread(cur *segment) []*segment {
	dev, ino := cur.dev, cur.ino
	// cur's first bytes are taken before the generations are listed: a
	// copy of that content found then is read through cur, and cur is
	// guarded with these bytes (f.seen), so that whatever is copied away
	// afterwards is found from cur's fingerprint.
	head, _ := prefix(cur.in.File(), cur.in.codec, FingerprintLen)
	f.seen = head
	var segs []*segment
	switch {
	case f.prev.set:
		found, err := rotated(f.path, f.prev.e, dev, ino)
		if err != nil || len(found) == 0 {
			return nil
		}
		found[0].close() // prev itself, queued already
		segs = found[1:]
	case f.prev.none:
		names, err := siblings(f.path)
		if err != nil {
			return nil
		}
		for i := len(names) - 1; i >= 0; i-- {
			g, err := openSegment(names[i])
			if err != nil {
				continue
			}
			if (g.dev != 0 || g.ino != 0) && g.dev == dev && g.ino == ino {
				// cur itself, renamed: the generations after it are
				// newer than it, read after it (found then as newer).
				g.close()
				break
			}
			segs = append(segs, g)
		}
	default:
		return nil
	}
	kept := settled(segs, head)
	// cur may have been written and then renamed and compressed while
	// the generations were listed: its first bytes, if more of them are
	// there now, show that copy of its content to be read through cur.
	// (f.seen stays the bytes taken before the listing.)
	if again, _ := prefix(cur.in.File(), cur.in.codec, FingerprintLen); len(again) > len(head) {
		kept = settled(kept, again)
	}
	for _, g := range kept {
		f.prep(g)
	}
	f.setPrev(kept)
	return kept
}

// settled returns the rotated generations segs (oldest first) up to the
// first that holds the content of the file at the path (whose first bytes
// are head): a copy of it in progress (copytruncate, not yet truncated),
// or the followed file itself renamed and compressed since it was
// opened. That one is read through the file at the path, and what was
// rotated in after it comes after it: it is found again then, as newer
// than the last generation queued. The newest generation is also left
// out while it is empty: it may be a copy just created (an empty
// generation has no lines to miss, and one left out is found again). The
// generations left out are closed.
func settled(segs []*segment, head []byte) []*segment {
	for i, g := range segs {
		if len(head) > 0 && sameStart(head, g) {
			closeAll(segs[i:])
			return segs[:i]
		}
	}
	if n := len(segs); n > 0 && !segs[n-1].gz() && segs[n-1].size == 0 {
		segs[n-1].close()
		segs = segs[:n-1]
	}
	return segs
}

// headAt returns the first bytes of the file at path (nil if it cannot
// be read).
func headAt(path string) []byte {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	b, _ := prefix(fh, plain, FingerprintLen)
	return b
}

// sameStart reports whether g's content and head agree on their common
// length (g may be a copy of head's file still being written).
func sameStart(head []byte, g *segment) bool {
	b, err := prefix(g.in.File(), g.in.codec, len(head))
	if err != nil || len(b) == 0 {
		return false
	}
	n := min(len(b), len(head))
	return string(b[:n]) == string(head[:n])
}

// setPrev makes the last of segs, if any, the newest generation queued.
//
// An empty generation (rotated while nothing had been written) is not
// taken: its identity would be its device and inode alone, which
// compressing it changes, so it could not be found again and every
// generation rotated in after it would be missed. Finding an empty
// generation again as a newer one costs nothing: it has no lines.
func (f *Follower) setPrev(segs []*segment) {
	for i := len(segs) - 1; i >= 0; i-- {
		if e := segs[i].identity(f.path); e.FPLen > 0 {
			f.prev.e, f.prev.set, f.prev.none = e, true, false
			return
		}
	}
}

// newer returns the rotated generations newer than the one e was taken
// from, oldest first, skipping the file now at the path (dev, ino): found
// by e's fingerprint and position check among the path's siblings, as
// Resume does. It returns nothing when that generation is no longer among
// them (deleted, or renamed over).
func (f *Follower) newer(e Entry, dev, ino uint64) []*segment {
	segs, err := rotated(f.path, e, dev, ino)
	if err != nil || len(segs) == 0 {
		return nil
	}
	segs[0].close() // the followed generation itself, read through f.cur
	kept := settled(segs[1:], headAt(f.path))
	for _, s := range kept {
		f.prep(s)
	}
	return kept
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
		return f.curEntry()
	case f.last != nil:
		return f.last.entry(f.path)
	}
	return f.opts.Entry
}

// curEntry returns the Entry of the position reached in the followed
// generation. When its reads are guarded, the fingerprint and position
// check come from the bytes as read: the file may have been copied away,
// truncated and rewritten since, and an Entry hashed from its new content
// would match the new file at the old offset instead of the rotated copy.
func (f *Follower) curEntry() Entry {
	s, g := f.cur, f.guard
	if g == nil || s.gz() {
		return s.entry(f.path)
	}
	off := s.lr.Offset()
	e := Entry{Path: f.path, Dev: s.dev, Inode: s.ino, Offset: off, Line: s.lr.LineNo()}
	if fp := g.fingerprint(); fp.n > 0 {
		e.FPLen, e.FP = fp.n, fp.hex()
	}
	if off == 0 {
		return e
	}
	n := int(min(off, FingerprintLen))
	if m, ok := g.tail(off, n); ok {
		e.TailLen, e.Tail = m.n, m.hex()
		return e
	}
	if f.markOff == off && f.mark.n > 0 {
		e.TailLen, e.Tail = f.mark.n, f.mark.hex()
		return e
	}
	// Not kept (a very long line held back): from the file, if it still
	// starts as read.
	if t, err := tailAt(s.in.File(), plain, off, n); err == nil && g.intact() {
		e.TailLen, e.Tail = t.n, t.hex()
	}
	return e
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

// recentLen is how many of the last bytes read from the followed file a
// guard keeps: the bytes before the position reached (a fingerprint's
// worth) lie within them as long as the line held back at the end (the
// part read but not yet returned) is shorter than 128 KiB.
const recentLen = FingerprintLen + 2*bufSize

// A guard sits between the followed file and its LineReader. It keeps
// the bytes as they were read (the file's first FingerprintLen bytes and
// the most recent ones), so that the generation's fingerprint and the
// check of the bytes before the position are taken from what was read,
// not from the file as it is a moment later (a copytruncate and new lines
// may land in between). After each read it checks that the file still
// starts with the bytes read first: if not, it was truncated and rewritten
// (copytruncate) meanwhile, and what was just read may be the new
// content at the old offset. Those bytes are dropped and the guard reports
// the end of the file from then on; the Follower then finds the file not
// intact and reads the rest of the old content from the rotated copy. Once
// truncated, a file never starts with its old bytes again (lines carry
// their time), so a check after the read covers the read.
type guard struct {
	f      *os.File
	r      io.Reader
	end    int64  // offset just past the last byte read
	head   []byte // the file's bytes [0, len(head)), as first read
	recent []byte // the file's bytes [end-len(recent), end)
	cut    bool   // found rewritten: report the end from now on
	cmp    []byte
}

// newGuard starts guarding s's plain file, positioned at off: its first
// bytes are taken now and checked after every read.
func newGuard(s *segment, off int64, head []byte) *guard {
	g := &guard{f: s.in.File(), r: s.in, end: off, head: head}
	if head == nil {
		g.head, _ = prefix(g.f, plain, FingerprintLen)
	}
	return g
}

// anchor takes b, the file's first bytes as unread saw them, as head while
// nothing was read and fewer were taken (the file was empty or short when
// opened), if they start with those taken before: a file that grew
// meanwhile is then guarded with its content before anything of it is
// read, so that a copytruncate between now and the read is noticed.
func (g *guard) anchor(b []byte) {
	if g.end == 0 && len(b) > len(g.head) && string(b[:len(g.head)]) == string(g.head) {
		g.head = b
	}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.cut {
		return 0, io.EOF
	}
	if g.end == 0 && len(g.head) == 0 {
		// Nothing of the file is known (it was empty when looked at):
		// its first bytes, once written, may be copied away and
		// truncated before they are read, leaving no trace. They are
		// read only once the Follower has taken them and looked for such
		// copies (check, then anchor).
		return 0, io.EOF
	}
	n, err := g.r.Read(p)
	if n > 0 {
		b := p[:n]
		// The part of b within the first FingerprintLen bytes extends
		// head (or must agree with it).
		if h := int64(len(g.head)); g.end < h {
			// Bytes read where head was taken must be those bytes.
			if k := min(h-g.end, int64(n)); string(b[:k]) != string(g.head[g.end:g.end+k]) {
				g.cut = true
				return 0, io.EOF
			}
		}
		// Checked against the first bytes known before taking more of
		// them from b: bytes of a rewritten file must not become head.
		if !g.intact() {
			g.cut = true
			return 0, io.EOF
		}
		if h := int64(len(g.head)); g.end < FingerprintLen && g.end <= h && g.end+int64(n) > h {
			g.head = append(g.head, b[h-g.end:min(int64(n), FingerprintLen-g.end)]...)
		}
		g.end += int64(n)
		g.recent = append(g.recent, b...)
		if len(g.recent) > 2*recentLen {
			g.recent = append(g.recent[:0], g.recent[len(g.recent)-recentLen:]...)
		}
	}
	return n, err
}

// intact reports whether the file still starts with head.
func (g *guard) intact() bool {
	if len(g.head) == 0 {
		return true
	}
	if cap(g.cmp) < len(g.head) {
		g.cmp = make([]byte, FingerprintLen)
	}
	c := g.cmp[:len(g.head)]
	got, _ := g.f.ReadAt(c, 0)
	return got == len(c) && string(c) == string(g.head)
}

// fingerprint returns the fingerprint of the file's first bytes as read.
func (g *guard) fingerprint() fingerprint {
	return fingerprint{n: len(g.head), sum: sha256.Sum256(g.head)}
}

// tail returns the fingerprint of the n bytes before off as they were
// read, or false if they are no longer kept.
func (g *guard) tail(off int64, n int) (fingerprint, bool) {
	from := g.end - int64(len(g.recent))
	if off > g.end || off-int64(n) < from {
		return fingerprint{}, false
	}
	b := g.recent[off-int64(n)-from : off-from]
	return fingerprint{n: n, sum: sha256.Sum256(b)}, true
}
