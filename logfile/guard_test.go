package logfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGuardCopytruncate: a copytruncate and new lines landing between the
// follower's check and its next read must not be read as the rest of the
// old content (the new content at the old offset), and the fingerprint and
// position check come from the bytes as read.
func TestGuardCopytruncate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		readOld int    // bytes of the old content read before the rotation
		newText string // written after the truncation
	}{
		{"new content longer than the position", 40, strings.Repeat("new line after the copytruncate\n", 10)},
		{"nothing read yet", 0, strings.Repeat("new line after the copytruncate\n", 10)},
		{"new content shorter than the position", 40, "n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mail.log")
			old := strings.Repeat("old line of the first generation\n", 4)
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := openSegment(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			g := newGuard(s, 0, nil)
			if string(g.head) != old {
				t.Fatalf("head %q", g.head)
			}
			buf := make([]byte, tc.readOld)
			if tc.readOld > 0 {
				if _, err := io.ReadFull(g, buf); err != nil {
					t.Fatal(err)
				}
			}
			// copytruncate, then new lines.
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.newText), 0o644); err != nil {
				t.Fatal(err)
			}
			// The new content at the old offset is never returned; when
			// it reaches past the offset the guard also stays at the
			// end (shorter content: the Follower sees the file shorter
			// than the position).
			n, err := g.Read(make([]byte, 4096))
			if n != 0 || err != io.EOF || len(tc.newText) > tc.readOld && !g.cut {
				t.Fatalf("read %d bytes, %v, cut %v: want the end", n, err, g.cut)
			}
			if fp := g.fingerprint(); fp.n != len(old) {
				t.Errorf("fingerprint over %d bytes, want the %d first read", fp.n, len(old))
			}
			if tc.readOld > 0 {
				m, ok := g.tail(int64(tc.readOld), 10)
				if !ok {
					t.Fatal("tail not kept")
				}
				want, _ := tailAt(mustOpen(t, writeTemp(t, old)), plain, int64(tc.readOld), 10)
				if m.sum != want.sum {
					t.Error("position check not taken from the bytes read")
				}
			}
		})
	}
}

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "copy")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustOpen(t *testing.T, p string) *os.File {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFollowerEntryAfterCopytruncate: the position saved for --state while
// the followed file has been copied away, truncated and rewritten (before
// the follower's next poll) must be the one in the old content, found in
// the rotated copy, not the same offset in the new content.
func TestFollowerEntryAfterCopytruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	line := func(s string, i int) string { return fmt.Sprintf("%s line %02d of the follower test\n", s, i) }
	var old strings.Builder
	for i := 1; i <= 3; i++ {
		old.WriteString(line("old", i))
	}
	if err := os.WriteFile(path, []byte(old.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Follow(path, FollowOptions{Interval: time.Millisecond})
	defer f.Close()
	for i := 1; i <= 3; i++ {
		got, err := f.Next(t.Context())
		if err != nil || string(got)+"\n" != line("old", i) {
			t.Fatalf("line %d: %q, %v", i, got, err)
		}
	}
	// Two more lines, then copytruncate and new, longer content.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(line("old", 4) + line("old", 5))
	fh.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", b, 0o644); err != nil {
		t.Fatal(err)
	}
	var fresh strings.Builder
	for i := 1; i <= 6; i++ {
		fresh.WriteString(line("new", i))
	}
	if err := os.WriteFile(path, []byte(fresh.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e := f.Entry()
	r, err := Resume(path, e)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l)+"\n")
	}
	want := []string{line("old", 4), line("old", 5)}
	for i := 1; i <= 6; i++ {
		want = append(want, line("new", i))
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("resumed from the saved entry:\n%s\nwant:\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
}

// TestRotatedDuringSearch: a numbered rotation while the rotated
// generations are opened one by one moves the generation holding the
// position to a name already looked at; the search must notice and look
// again rather than report it gone (a gap, then the generation read again
// from its start).
func TestRotatedDuringSearch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	gen := func(s string) string {
		var b strings.Builder
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&b, "%s line %d of a rotated generation\n", s, i)
		}
		return b.String()
	}
	write := func(name, text string, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	write("mail.log.2", gen("A"), 3*time.Hour)
	write("mail.log.1", gen("B"), 2*time.Hour)
	write("mail.log", gen("C"), time.Hour)
	// The position: after A's first line, as saved from A.
	s, err := openSegment(filepath.Join(dir, "mail.log.2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.lr.Next(); err != nil {
		t.Fatal(err)
	}
	e := s.entry(path)
	s.close()
	// A rotation after the first candidate is opened: mail.log.2 →
	// mail.log.3, mail.log.1 → mail.log.2, mail.log → mail.log.1.
	opened := 0
	beforeOpen = func(string) {
		opened++
		if opened != 2 {
			return
		}
		for _, mv := range [][2]string{{"mail.log.2", "mail.log.3"}, {"mail.log.1", "mail.log.2"}, {"mail.log", "mail.log.1"}} {
			if err := os.Rename(filepath.Join(dir, mv[0]), filepath.Join(dir, mv[1])); err != nil {
				t.Fatal(err)
			}
		}
		write("mail.log", "", 0)
	}
	defer func() { beforeOpen = nil }()
	segs, err := rotated(path, e, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(segs)
	var got strings.Builder
	for _, g := range segs {
		g.lr.CompleteOnly = false
		for {
			l, err := g.lr.Next()
			if err != nil {
				break
			}
			got.Write(l)
			got.WriteByte('\n')
		}
	}
	want := strings.SplitAfterN(gen("A"), "\n", 2)[1] + gen("B") + gen("C")
	if got.String() != want {
		t.Errorf("read after the search:\n%s\nwant:\n%s", got.String(), want)
	}
}

// TestSiblingsEqualMtime: two generations of different naming schemes with
// the same modification time (the newer one got no write within the file
// system's clock tick after it was created) are ordered by which was put
// in place last, not by name: a dated generation and a numbered one
// created after it.
func TestSiblingsEqualMtime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	mt := time.Now().Add(-time.Hour).Truncate(time.Second)
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	write("mail.log-20261120", "older generation\n")
	old, err := os.Stat(filepath.Join(dir, "mail.log-20261120"))
	if err != nil {
		t.Fatal(err)
	}
	// A later inode change time than the older one's.
	for i := 0; ; i++ {
		write("mail.log.1", "newer generation\n")
		fi, err := os.Stat(filepath.Join(dir, "mail.log.1"))
		if err != nil {
			t.Fatal(err)
		}
		if changeTime(fi).After(changeTime(old)) {
			break
		}
		if i == 50 || changeTime(fi).IsZero() {
			t.Skip("no distinct inode change times here")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Rotated(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "mail.log-20261120"), filepath.Join(dir, "mail.log.1")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Rotated = %v, want oldest first %v", got, want)
	}
}

// TestFollowerEmptyThenCopytruncate: a followed file empty when opened
// gets lines that are copied away and truncated (copytruncate) before the
// follower first reads it; the lines after the truncation must not be read
// first as if they were the file's start, the copied ones lost.
func TestFollowerEmptyThenCopytruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := Follow(path, FollowOptions{Interval: time.Millisecond})
	defer f.Close()
	if err := f.start(); err != nil {
		t.Fatal(err)
	}
	f.started = true
	// Between opening and the first read: lines, copytruncate, lines.
	old := "00000001 first generation line\n00000002 first generation line\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := "00000003 after the copytruncate\n"
	if err := os.WriteFile(path, []byte(fresh), 0o644); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		l, err := f.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got.String(), err)
		}
		got.Write(l)
		got.WriteByte('\n')
	}
	if got.String() != old+fresh {
		t.Errorf("read %q, want %q", got.String(), old+fresh)
	}
}

// TestFollowerEmptyRenamedCompressed: a followed file empty when its first
// bytes were taken, then written, renamed and compressed (a new inode)
// while the rotated generations were being listed, must be read once: its
// compressed copy is its own content, not a generation to read before it.
func TestFollowerEmptyRenamedCompressed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	at := func(name string, text []byte, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	at("mail.log-20261101", []byte("00000001 an older generation, already read\n"), 2*time.Hour)
	at("mail.log", nil, time.Hour)
	lines := "00000002 written while the generations were listed\n00000003 and renamed away\n"
	rotatedAway := false
	beforeOpen = func(string) {
		if rotatedAway {
			return
		}
		rotatedAway = true
		// Lines, then create with compress: renamed, compressed (the
		// plain name removed), a new empty file at the path.
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		fh.WriteString(lines)
		fh.Close()
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(lines))
		zw.Close()
		at("mail.log-20261102.gz", buf.Bytes(), 30*time.Minute)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		at("mail.log", nil, 0)
	}
	defer func() { beforeOpen = nil }()
	f := Follow(path, FollowOptions{Interval: time.Millisecond})
	defer f.Close()
	var got strings.Builder
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		l, err := f.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		got.Write(l)
		got.WriteByte('\n')
	}
	if !rotatedAway {
		t.Fatal("the rotation was not made while the generations were listed")
	}
	if got.String() != lines {
		t.Errorf("read %q, want %q", got.String(), lines)
	}
}

// TestFollowerRenamedBeforeRead: a log with no rotated generation, empty
// when the follower opened it, written and renamed away twice before the
// follower read anything: the generation rotated in after the followed
// one must be read after it, not before.
func TestFollowerRenamedBeforeRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := Follow(path, FollowOptions{Interval: time.Millisecond})
	defer f.Close()
	if err := f.start(); err != nil {
		t.Fatal(err)
	}
	f.started = true
	mt := time.Now().Add(-time.Hour)
	var want strings.Builder
	for i, gen := range []string{"mail.log-20261101", "mail.log-20261102", ""} {
		text := fmt.Sprintf("%08d line of generation %d\n", i+1, i+1)
		want.WriteString(text)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if gen == "" {
			break
		}
		m := mt.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(path, m, m); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path, filepath.Join(dir, gen)); err != nil {
			t.Fatal(err)
		}
	}
	var got strings.Builder
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		l, err := f.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		got.Write(l)
		got.WriteByte('\n')
	}
	if got.String() != want.String() {
		t.Errorf("read %q, want %q", got.String(), want.String())
	}
}
