package logfile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
func (s *segment) gz() bool     { return s.in.Compressed() } // compressed, gzip or bzip2
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

// position positions s at e's offset if s holds e's position check (see
// Entry.TailLen) just before it. It reports false, with s then unusable,
// if s's content ends before the offset or the check fails; errors are
// read errors (a corrupt compressed stream), naming the file.
func (s *segment) position(e Entry) (bool, error) {
	if !s.gz() {
		// continues checked the bytes before the offset already.
		return true, s.seek(e.Offset, e.Line)
	}
	buf := make([]byte, e.TailLen)
	got, err := readTail(s.in, e.Offset, buf)
	if errors.Is(err, errShort) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if e.TailLen > 0 && got.sum != e.tail().sum {
		return false, nil
	}
	s.lr.reset(s.in, e.Offset, e.Line)
	return true, nil
}

// entry returns the resume entry for s's current position.
func (s *segment) entry(path string) Entry {
	e := Entry{Path: path, Dev: s.dev, Inode: s.ino, Offset: s.lr.Offset(), Line: s.lr.LineNo()}
	if fp, err := fingerprintOf(s.in.File(), s.in.codec); err == nil {
		e.FPLen, e.FP = fp.n, fp.hex()
	}
	if e.Offset > 0 {
		if t, err := tailAt(s.in.File(), s.in.codec, e.Offset, int(min(e.Offset, FingerprintLen))); err == nil {
			e.TailLen, e.Tail = t.n, t.hex()
		}
	}
	return e
}

// identity returns an Entry naming s without a position: its device,
// inode and fingerprint, for finding it again among the rotated
// generations (under another name, compressed) with rotated.
func (s *segment) identity(path string) Entry {
	e := Entry{Path: path, Dev: s.dev, Inode: s.ino}
	if fp, err := fingerprintOf(s.in.File(), s.in.codec); err == nil {
		e.FPLen, e.FP = fp.n, fp.hex()
	}
	return e
}

// continues reports whether s may be the generation e was saved from and
// still holds at least e.Offset bytes, preceded by e's position check.
// For compressed content, the length and the position check are left to
// position, which decompresses up to the offset anyway. Read errors count
// as "no": a corrupt candidate is simply not the one.
func (s *segment) continues(e Entry) bool {
	if !s.gz() && s.size < e.Offset {
		return false
	}
	sameID := s.dev == e.Dev && s.ino == e.Inode && (s.dev != 0 || s.ino != 0)
	if e.FPLen == 0 && !sameID {
		return false // an empty fingerprint proves nothing on its own
	}
	ok, err := e.fingerprint().matches(s.in.File(), s.in.codec)
	if !ok || err != nil {
		return false
	}
	if !s.gz() && e.TailLen > 0 {
		t, err := tailAt(s.in.File(), plain, e.Offset, e.TailLen)
		return err == nil && t.sum == e.tail().sum
	}
	return true
}

// siblings lists the rotated generations of path in its directory,
// newest first. Of two names for one generation (mail.log.2 and
// mail.log.2.gz while logrotate compresses it) only the uncompressed one
// is listed: it is complete, the compressed one may not be yet.
// Generations compressed with a tool Open cannot decompress (xz, zstd, …)
// are left out.
//
// Generations are ordered by the age of their content, their last write
// (modification time, which renaming keeps and logrotate's compression
// copies to the compressed file), and only then by name: a log whose
// admin switched from dated to numbered names (or back) has generations
// of both, and name order alone would put them in the wrong order.
func siblings(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type genKey struct {
		class int
		key   string
	}
	pick := make(map[genKey]int) // index into names
	var names []string
	var mtimes, ctimes []time.Time
	for _, de := range ents {
		name := de.Name()
		g := parseGeneration(name)
		if g.stem != base || g.class == genCurrent || !de.Type().IsRegular() || undecodable(name) {
			continue
		}
		var mt, ct time.Time
		if fi, err := de.Info(); err == nil {
			mt, ct = fi.ModTime(), changeTime(fi)
		}
		k := genKey{g.class, g.key}
		if i, ok := pick[k]; ok {
			if !compressedName(filepath.Base(names[i])) || compressedName(name) {
				continue
			}
			names[i], mtimes[i], ctimes[i] = filepath.Join(dir, name), mt, ct // the uncompressed one
			continue
		}
		pick[k] = len(names)
		names = append(names, filepath.Join(dir, name))
		mtimes = append(mtimes, mt)
		ctimes = append(ctimes, ct)
	}
	byName := SortOldestFirst(names)
	rank := make(map[string]int, len(names))
	for i, n := range byName {
		rank[n] = i
	}
	mtime := make(map[string]time.Time, len(names))
	ctime := make(map[string]time.Time, len(names))
	for i, n := range names {
		mtime[n], ctime[n] = mtimes[i], ctimes[i]
	}
	slices.SortStableFunc(byName, func(a, b string) int {
		if c := mtime[a].Compare(mtime[b]); c != 0 {
			return c
		}
		// Equal modification times (a file system's clock ticks are
		// milliseconds long: a generation that got no write after it was
		// created ties with the one before it). Names of one scheme are
		// in order; of two schemes (numbered and dated), the one put in
		// place last (renamed, copied or compressed) is the newer.
		if parseGeneration(filepath.Base(a)).class != parseGeneration(filepath.Base(b)).class {
			if c := ctime[a].Compare(ctime[b]); c != 0 {
				return c
			}
		}
		return cmp.Compare(rank[a], rank[b])
	})
	slices.Reverse(byName)
	return byName, nil
}

// Rotated returns the rotated generations of path found next to it (next
// to the file a symbolic link points to, then next to the link), oldest
// first, in the order Resume and Follow read them: by their last write,
// then by name; of two names for one generation only the uncompressed
// one. A first run with no saved position reads them before path.
func Rotated(path string) ([]string, error) {
	if target, ok := linkTarget(path); ok {
		if names, err := siblings(target); err == nil && len(names) > 0 {
			slices.Reverse(names)
			return names, nil
		}
	}
	names, err := siblings(path)
	slices.Reverse(names)
	return names, err
}

// compressedName reports whether name ends in a compression suffix.
func compressedName(name string) bool {
	return strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".bz2") || undecodable(name)
}

// undecodable reports whether name ends in the suffix of a compression
// tool Open cannot decompress (xz, zstd, lz4, lzma, compress): such
// generations are never read.
func undecodable(name string) bool {
	switch filepath.Ext(name) {
	case ".xz", ".zst", ".lz4", ".lzma", ".Z":
		return true
	}
	return false
}

// rotated finds the rotated generation of path that e was saved from,
// skipping the generation identified by skipDev/skipIno (the current
// file, also when it was renamed in the meantime). It returns that generation positioned at e.Offset followed by
// every newer rotated generation from their start, oldest first. It
// returns nothing if no generation continues e (fingerprint and position
// check).
func rotated(path string, e Entry, skipDev, skipIno uint64) ([]*segment, error) {
	// A symbolic link is rotated where it points (logrotate does not
	// rotate links); look there first, then next to the link.
	var segs []*segment
	var err error
	if target, ok := linkTarget(path); ok {
		segs, err = rotatedIn(target, e, skipDev, skipIno)
		if err != nil && !errors.Is(err, fs.ErrNotExist) || len(segs) > 0 {
			return segs, err
		}
	}
	return rotatedIn(path, e, skipDev, skipIno)
}

// linkTarget returns what path points to if it is a symbolic link in a
// different directory or with a different name, even if that does not
// exist (just renamed by a rotation).
func linkTarget(path string) (string, bool) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return "", false
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		l, lerr := os.Readlink(path)
		if lerr != nil {
			return "", false
		}
		if !filepath.IsAbs(l) {
			l = filepath.Join(filepath.Dir(path), l)
		}
		target = l
	}
	if filepath.Clean(target) == filepath.Clean(path) {
		return "", false
	}
	return target, true
}

// rotatedIn is rotated for the generations next to path.
//
// The directory is listed, then the generations are opened by name: a
// rotation in between (numbered names moving up by one, a generation
// compressed and its uncompressed name removed) would make a name open
// another generation than listed, or none, and a generation be skipped.
// So the generations opened are checked to be still under the names they
// were opened by, and the directory is listed again and must list the
// same names (a listing taken while files are renamed may miss one); if
// not, or if one vanished, it all starts again (a few times: rotations
// are seconds apart at least, except in tests).
func rotatedIn(path string, e Entry, skipDev, skipIno uint64) ([]*segment, error) {
	for attempt := 0; ; attempt++ {
		segs, stable, err := rotatedOnce(path, e, skipDev, skipIno)
		if err != nil || stable || attempt == 20 {
			return segs, err
		}
		closeAll(segs)
	}
}

// rotatedOnce is one attempt of rotatedIn; stable reports whether no
// rotation was seen meanwhile.
func rotatedOnce(path string, e Entry, skipDev, skipIno uint64) (segs []*segment, stable bool, err error) {
	names, err := siblings(path)
	if err != nil {
		return nil, true, err
	}
	// The candidates opened and passed over: a rotation while they are
	// opened one by one (numbered names moving up) can show the
	// generation holding e under a name already looked at, so that it
	// is never opened; they must still be under the names they were
	// opened by when the search ends.
	var passed []fileName
	for k, name := range names {
		if beforeOpen != nil {
			beforeOpen(name)
		}
		s, err := openSegment(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil // renamed or compressed meanwhile
		}
		if err != nil {
			continue // unreadable: not ours
		}
		if (s.dev != 0 || s.ino != 0) && s.dev == skipDev && s.ino == skipIno || !s.continues(e) {
			passed = append(passed, fileName{name, s.dev, s.ino})
			s.close()
			continue
		}
		// s.continues read through a separate reader, so s is unread.
		ok, err := s.position(e)
		if err != nil {
			s.close()
			return nil, true, err
		}
		if !ok {
			passed = append(passed, fileName{name, s.dev, s.ino})
			s.close()
			continue
		}
		segs := []*segment{s}
		for i := k - 1; i >= 0; i-- {
			n, err := openSegment(names[i])
			if err != nil {
				closeAll(segs)
				if errors.Is(err, fs.ErrNotExist) {
					return nil, false, nil
				}
				return nil, true, err
			}
			if (n.dev != 0 || n.ino != 0) && n.dev == skipDev && n.ino == skipIno {
				// The file at the path, renamed since it was looked
				// at: it is read as the current file, and the
				// generations rotated in after it come after it, so
				// they are not taken here (they are found again
				// once it is read, as generations newer than it).
				n.close()
				break
			}
			segs = append(segs, n)
		}
		return segs, stillNamed(segs) && stillThere(passed) && sameList(path, names), nil
	}
	return nil, stillThere(passed) && sameList(path, names), nil
}

// beforeOpen, if set (by tests), is called before rotatedOnce opens a
// listed generation.
var beforeOpen func(name string)

// fileName is a file as found under a name.
type fileName struct {
	name     string
	dev, ino uint64
}

// stillThere reports whether each of files is still under its name.
func stillThere(files []fileName) bool {
	for _, f := range files {
		fi, err := os.Stat(f.name)
		if err != nil {
			return false
		}
		if dev, ino := fileID(fi); (dev != 0 || ino != 0) && (dev != f.dev || ino != f.ino) {
			return false
		}
	}
	return true
}

// sameList reports whether path's rotated generations are still names:
// a directory listed while a rotation renames files may show neither the
// old nor the new name of one.
func sameList(path string, names []string) bool {
	again, err := siblings(path)
	return err == nil && slices.Equal(again, names)
}

// stillNamed reports whether each of segs is still the file under the
// name it was opened by.
func stillNamed(segs []*segment) bool {
	for _, s := range segs {
		fi, err := os.Stat(s.name())
		if err != nil {
			return false
		}
		if dev, ino := fileID(fi); (dev != 0 || ino != 0) && (dev != s.dev || ino != s.ino) {
			return false
		}
	}
	return true
}

func closeAll(segs []*segment) {
	for _, s := range segs {
		s.close()
	}
}

// A GapError says that the generation holding a saved position is gone
// (rotated away more often than the rotation scheme keeps generations, or
// deleted) before its end was read: what was logged after the position
// until the start of what is read now is missing.
type GapError struct {
	Path  string // the log, as given to Resume or Follow
	Entry Entry  // the saved position
}

// Error names the log and the position after which lines are missing.
func (e *GapError) Error() string {
	return fmt.Sprintf("%s: the rotated file holding the saved position (after line %d) is gone: lines logged after it until the start of the current file are missing (rotated away or deleted before they were read)", e.Path, e.Entry.Line)
}

// resolve opens the generations to read, in order, to continue path from
// e; see Resume. The last one is the current file unless it is missing.
// It returns a *GapError with the current file when no generation
// continues e.
func resolve(path string, e Entry) ([]*segment, *GapError, error) {
	segs, ok, err := resolveSegs(path, e)
	if err != nil || ok || e.IsZero() {
		return segs, nil, err
	}
	return segs, &GapError{Path: path, Entry: e}, nil
}

// resolveSegs is resolve; ok reports whether a generation continues e.
func resolveSegs(path string, e Entry) ([]*segment, bool, error) {
	cur, err := openSegment(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if cur != nil {
		cur.current = true
	}
	if e.IsZero() {
		if cur == nil {
			return nil, false, err
		}
		return []*segment{cur}, true, nil
	}
	// The file at path continues e if it is the same file, or if it
	// holds e's fingerprint and position check: the same content under
	// another device or inode number (restored from a backup, moved to
	// another file system, device numbers renumbered at boot).
	if cur != nil && (cur.dev == e.Dev && cur.ino == e.Inode || e.TailLen > 0) && cur.continues(e) {
		ok, perr := cur.position(e)
		if perr != nil {
			cur.close()
			return nil, false, perr
		}
		if ok {
			return []*segment{cur}, true, nil
		}
		// A compressed file at path, shorter than e: reopen it unread.
		cur.close()
		if cur, err = openSegment(path); err != nil {
			return nil, false, err
		}
		cur.current = true
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
		return nil, false, rerr
	}
	if cur == nil {
		if len(segs) == 0 {
			return nil, false, err
		}
		return segs, true, nil
	}
	return append(segs, cur), len(segs) > 0, nil
}

// A Resumer reads a log from a saved Entry to its current end, through
// any rotations in between. Create one with Resume; it is not safe for
// concurrent use.
type Resumer struct {
	path   string
	segs   []*segment
	i      int
	broken bool // reading segs[i], a finished generation, failed
	gap    *GapError
}

// Resume opens path to continue reading from e (the zero Entry: from the
// start). It chooses what to read:
//
//   - e is zero: the whole current file.
//   - the file at path is the generation e was saved from (same device
//     and inode, or same content elsewhere; see the package doc's
//     Identity): the file from e.Offset.
//   - otherwise the file was rotated or copytruncated: the newest rotated
//     generation (path.1, path.1.gz, path-YYYYMMDD[.gz], path.0.bz2,
//     path.2, …) that carries e's fingerprint and position check is read
//     from e.Offset, then any newer rotated generations, then the current
//     file from the start. If no generation continues e (for example it
//     was deleted), only the current file is read, from the start, and
//     Gap reports it.
//   - if the current file is empty after a rotation, it is left out: the
//     writer may still be appending to the rotated generation, whose last
//     line is then held back like the current file's.
//
// If path does not exist and no rotated generation continues e, Resume
// returns the *fs.PathError for path. Only complete lines of the last
// generation are returned; a final line without "\n" is read by the next
// run. Call Close when done.
func Resume(path string, e Entry) (*Resumer, error) {
	segs, gap, err := resolve(path, e)
	if err != nil {
		return nil, err
	}
	if n := len(segs); n > 1 && segs[n-1].current && segs[n-1].size == 0 {
		// Rotated, and the new file is still empty: the writer may not
		// have reopened yet and still be appending to the rotated
		// generation. Stay in that one, holding back its last partial
		// line, so the next run reads what it still gets.
		segs[n-1].close()
		segs = segs[:n-1]
	}
	for _, s := range segs[:len(segs)-1] {
		s.lr.CompleteOnly = false // finished generations: the last line is final
	}
	return &Resumer{path: path, segs: segs, gap: gap}, nil
}

// Gap returns a *GapError when no generation continues the entry Resume
// was given (it was rotated away or deleted before it was read to its
// end): the current file is then read from its start, and the lines in
// between are missing. It returns nil otherwise.
func (r *Resumer) Gap() error {
	if r.gap == nil {
		return nil
	}
	return r.gap
}

// Next returns the next line, moving on through the generations, or
// io.EOF after the last complete line of the last one. The line is valid
// until the next call.
//
// A read error (for example a rotated .gz generation cut short, an error
// wrapping io.ErrUnexpectedEOF and naming the file) is returned after the
// last complete line before it; Commit then points just past that line.
// If the error came from a rotated generation, calling Next again gives
// up the unreadable rest of it and goes on with the next generation, so
// one damaged file does not stop the log for good; the lines lost are
// the caller's to report.
func (r *Resumer) Next() ([]byte, error) {
	if r.broken {
		r.broken = false
		r.i++
	}
	for {
		s := r.segs[r.i]
		line, err := s.lr.Next()
		last := r.i == len(r.segs)-1
		if err == io.EOF && !last {
			r.i++
			continue
		}
		if err != nil && err != io.EOF && !last {
			r.broken = true
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

// SetOnLong sets LineReader.OnLong for every generation; call it before
// Next.
func (r *Resumer) SetOnLong(fn func(line int, head []byte)) {
	for _, s := range r.segs {
		s.lr.OnLong = fn
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
// complete line and the number of lines before it, with the line ends of
// LineReader ("\n", "\r\n", a lone "\r").
func endOf(r io.Reader) (off int64, lines int, err error) {
	lr := NewLineReader(r)
	lr.CompleteOnly = true
	lr.Max = 1 // lines are counted, not kept
	for {
		if _, err := lr.Next(); err != nil {
			if err == io.EOF {
				return lr.Offset(), lr.LineNo(), nil
			}
			return 0, 0, err
		}
	}
}
