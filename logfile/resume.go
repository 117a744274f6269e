package logfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// segment is one generation of a log opened for reading.
type segment struct {
	in       *Input
	lr       *LineReader
	dev, ino uint64
	size     int64 // at open time (compressed size for gzip)
	current  bool  // opened from the log's own path
}

// openSegment opens name as a generation. It does not read from it.
func openSegment(name string) (*segment, error) {
	in, err := Open(name, nil)
	if err != nil {
		return nil, err
	}
	fi, err := in.File().Stat()
	if err != nil {
		in.Close()
		return nil, err
	}
	s := &segment{in: in, size: fi.Size()}
	s.dev, s.ino = fileID(fi)
	s.lr = NewLineReader(in)
	s.lr.CompleteOnly = true
	return s, nil
}

func (s *segment) name() string { return s.in.Name() }
func (s *segment) gz() bool     { return s.in.Compressed() }
func (s *segment) close()       { s.in.Close() }

// seek positions s at byte off (after line number line) of its content.
// Gzip content is decompressed and discarded up to off.
func (s *segment) seek(off int64, line int) error {
	if s.gz() {
		if _, err := io.CopyN(io.Discard, s.in, off); err != nil && err != io.EOF {
			return err
		}
	} else if _, err := s.in.File().Seek(off, io.SeekStart); err != nil {
		return err
	}
	s.lr.reset(s.in, off, line)
	return nil
}

// entry returns the resume entry for s's current position.
func (s *segment) entry(path string) Entry {
	e := Entry{Path: path, Dev: s.dev, Inode: s.ino, Offset: s.lr.Offset(), Line: s.lr.LineNo()}
	if fp, err := fingerprintOf(s.in.File(), s.gz()); err == nil {
		e.FPLen, e.FP = fp.n, fp.hex()
	}
	return e
}

// continues reports whether s is the generation e was saved from and
// still holds at least e.Offset bytes. Read errors count as "no": a
// corrupt candidate is simply not the one.
func (s *segment) continues(e Entry) bool {
	if !s.gz() && s.size < e.Offset {
		return false
	}
	sameID := s.dev == e.Dev && s.ino == e.Inode && (s.dev != 0 || s.ino != 0)
	if e.FPLen == 0 && !sameID {
		return false // an empty fingerprint proves nothing on its own
	}
	ok, err := e.fingerprint().matches(s.in.File(), s.gz())
	return ok && err == nil
}

// siblings lists the rotated generations of path in its directory,
// newest first.
func siblings(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range ents {
		g := parseGeneration(de.Name())
		if g.stem == base && g.class != genCurrent && de.Type().IsRegular() {
			names = append(names, filepath.Join(dir, de.Name()))
		}
	}
	names = SortOldestFirst(names)
	slices.Reverse(names)
	return names, nil
}

// rotated finds the rotated generation of path that e was saved from,
// skipping the generation identified by skipDev/skipIno (the current
// file). It returns that generation positioned at e.Offset followed by
// every newer rotated generation from their start, oldest first. It
// returns nothing if no generation carries e's fingerprint.
func rotated(path string, e Entry, skipDev, skipIno uint64) ([]*segment, error) {
	names, err := siblings(path)
	if err != nil {
		return nil, err
	}
	for k, name := range names {
		s, err := openSegment(name)
		if err != nil {
			continue // vanished or unreadable: not ours
		}
		if (s.dev != 0 || s.ino != 0) && s.dev == skipDev && s.ino == skipIno || !s.continues(e) {
			s.close()
			continue
		}
		// s.continues read through a separate reader, so s is unread.
		if err := s.seek(e.Offset, e.Line); err != nil {
			s.close()
			return nil, err
		}
		segs := []*segment{s}
		for i := k - 1; i >= 0; i-- {
			n, err := openSegment(names[i])
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				closeAll(segs)
				return nil, err
			}
			segs = append(segs, n)
		}
		return segs, nil
	}
	return nil, nil
}

func closeAll(segs []*segment) {
	for _, s := range segs {
		s.close()
	}
}

// resolve opens the generations to read, in order, to continue path from
// e; see Resume. The last one is the current file unless it is missing.
func resolve(path string, e Entry) ([]*segment, error) {
	cur, err := openSegment(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if cur != nil {
		cur.current = true
	}
	if e.IsZero() {
		if cur == nil {
			return nil, err
		}
		return []*segment{cur}, nil
	}
	if cur != nil && cur.dev == e.Dev && cur.ino == e.Inode && cur.continues(e) {
		if err := cur.seek(e.Offset, e.Line); err != nil {
			cur.close()
			return nil, err
		}
		return []*segment{cur}, nil
	}
	var skipDev, skipIno uint64
	if cur != nil {
		skipDev, skipIno = cur.dev, cur.ino
	}
	segs, rerr := rotated(path, e, skipDev, skipIno)
	if rerr != nil {
		if cur != nil {
			cur.close()
		}
		return nil, rerr
	}
	if cur == nil {
		if len(segs) == 0 {
			return nil, err
		}
		return segs, nil
	}
	return append(segs, cur), nil
}

// A Resumer reads a log from a saved Entry to its current end, through
// any rotations in between. Create one with Resume; it is not safe for
// concurrent use.
type Resumer struct {
	path string
	segs []*segment
	i    int
}

// Resume opens path to continue reading from e (the zero Entry: from the
// start). It chooses what to read:
//
//   - e is zero: the whole current file.
//   - the file at path is the generation e was saved from (same device,
//     inode and fingerprint, at least e.Offset bytes long): the file from
//     e.Offset.
//   - otherwise the file was rotated or copytruncated: the rotated
//     generation (path.1, path.1.gz, path-YYYYMMDD[.gz], path.2, …) that
//     carries e's fingerprint is read from e.Offset, then any newer
//     rotated generations, then the current file from the start. If no
//     generation carries the fingerprint (for example it was deleted),
//     only the current file is read, from the start.
//
// If path does not exist and no rotated generation continues e, Resume
// returns the *fs.PathError for path. Only complete lines of the last
// generation are returned; a final line without "\n" is read by the next
// run. Call Close when done.
func Resume(path string, e Entry) (*Resumer, error) {
	segs, err := resolve(path, e)
	if err != nil {
		return nil, err
	}
	for _, s := range segs[:len(segs)-1] {
		s.lr.CompleteOnly = false // finished generations: the last line is final
	}
	return &Resumer{path: path, segs: segs}, nil
}

// Next returns the next line, moving on through the generations, or
// io.EOF after the last complete line of the last one. The line is valid
// until the next call.
func (r *Resumer) Next() ([]byte, error) {
	for {
		s := r.segs[r.i]
		line, err := s.lr.Next()
		if err == io.EOF && r.i < len(r.segs)-1 {
			r.i++
			continue
		}
		return line, err
	}
}

// SetMax sets LineReader.Max for every generation; call it before Next.
func (r *Resumer) SetMax(n int) {
	for _, s := range r.segs {
		s.lr.Max = n
	}
}

// Name returns the file name of the generation the last line came from.
func (r *Resumer) Name() string { return r.segs[r.i].name() }

// LineNo returns the line number of the last line within its generation.
func (r *Resumer) LineNo() int { return r.segs[r.i].lr.LineNo() }

// Long returns how many over-long lines were skipped in all generations.
func (r *Resumer) Long() int {
	n := 0
	for _, s := range r.segs[:r.i+1] {
		n += s.lr.Long()
	}
	return n
}

// Commit returns the entry to save for the position reached: just past
// the last complete line consumed. It may be called at any time, also
// after an error, and points into a rotated generation if reading stopped
// there. Save it only after the lines read have been fully processed
// (at-least-once delivery). Call Commit before Close.
func (r *Resumer) Commit() Entry {
	return r.segs[r.i].entry(r.path)
}

// Close closes every generation.
func (r *Resumer) Close() error {
	var err error
	for _, s := range r.segs {
		if cerr := s.in.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// EndEntry returns an entry for the current end of path: just past its
// last complete line, with the line count. Resuming from it reads only
// lines written later; use it to start at the end on a first run.
func EndEntry(path string) (Entry, error) {
	s, err := openSegment(path)
	if err != nil {
		return Entry{}, err
	}
	defer s.close()
	off, lines, err := endOf(s.in)
	if err != nil {
		return Entry{}, err
	}
	s.lr.reset(s.in, off, lines)
	return s.entry(path), nil
}

// endOf reads r to its end and returns the offset just past its last
// "\n" and the number of lines before it.
func endOf(r io.Reader) (off int64, lines int, err error) {
	buf := make([]byte, bufSize)
	var pos int64
	for {
		n, err := r.Read(buf)
		b := buf[:n]
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			lines += bytes.Count(b, []byte{'\n'})
			off = pos + int64(i) + 1
		}
		pos += int64(n)
		if err == io.EOF {
			return off, lines, nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}
