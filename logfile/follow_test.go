package logfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const testInterval = 100 * time.Millisecond

// followHarness runs a Follower in a goroutine and records its lines as
// "name:lineno:text", name relative to the test directory.
type followHarness struct {
	t      *testing.T
	dir    string
	f      *Follower
	cancel context.CancelFunc
	done   chan error
	entry  Entry // at stop
	mu     sync.Mutex
	lines  []string
}

func startFollow(t *testing.T, dir string, opts FollowOptions) *followHarness {
	t.Helper()
	if opts.Interval == 0 {
		opts.Interval = testInterval
	}
	ctx, cancel := context.WithCancel(t.Context())
	h := &followHarness{t: t, dir: dir, f: Follow(filepath.Join(dir, "mail.log"), opts), cancel: cancel, done: make(chan error, 1)}
	go func() {
		for {
			line, err := h.f.Next(ctx)
			if err != nil {
				h.done <- err
				return
			}
			name, _ := filepath.Rel(dir, h.f.Name())
			h.mu.Lock()
			h.lines = append(h.lines, fmt.Sprintf("%s:%d:%s", name, h.f.LineNo(), line))
			h.mu.Unlock()
		}
	}()
	return h
}

// settle lets the follower poll at least twice and waits until it is
// idle, then returns the lines so far and forgets them.
func (h *followHarness) settle() []string {
	time.Sleep(3 * testInterval)
	synctest.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.lines
	h.lines = nil
	return got
}

// stop cancels the follower and returns what Next returned.
func (h *followHarness) stop() error {
	h.cancel()
	err := <-h.done
	h.entry = h.f.Entry()
	h.f.Close()
	return err
}

func TestFollow(t *testing.T) {
	hdr := "# " + strings.Repeat("H", 1100) // a header longer than a fingerprint, repeated at each rotation
	tests := []struct {
		name  string
		opts  FollowOptions
		steps []resumeStep
	}{
		{name: "grows, partial line completed later", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "c\n")}, want: []string{"mail.log:2:bc"}},
			{want: nil},
		}},
		{name: "missing at start and for a while", steps: []resumeStep{
			{want: nil},
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{remove("mail.log")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "b\n")}, want: []string{"mail.log:1:b"}},
		}},
		{name: "from end", opts: FollowOptions{FromEnd: true}, steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "old\npart")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "ial\nnew\n")}, want: []string{"mail.log:2:partial", "mail.log:3:new"}},
		}},
		{name: "rename and create", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\nc"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log:2:b", "mail.log:3:c", "mail.log:1:d"}},
		}},
		{name: "two rotations within one poll interval", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "c\n"),
				rename("mail.log.1", "mail.log.2"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log:2:b", "mail.log.1:1:c", "mail.log:1:d"}},
		}},
		{name: "writer keeps the renamed file until it reopens", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{rename("mail.log", "mail.log.1"), appendLog("mail.log", "")}, want: nil},
			{ops: []fsOp{appendLog("mail.log.1", "late\n")}, want: []string{"mail.log:2:late"}},
			{ops: []fsOp{appendLog("mail.log.1", "later\n"), appendLog("mail.log", "new\n")},
				want: []string{"mail.log:3:later", "mail.log:1:new"}},
		}},
		{name: "copytruncate smaller", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "aaaa\nbbbb\n")}, want: []string{"mail.log:1:aaaa", "mail.log:2:bbbb"}},
			{ops: []fsOp{appendLog("mail.log", "cccc\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log.1:3:cccc", "mail.log:1:d"}},
		}},
		{name: "copytruncate regrown past offset", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb\n")}, want: []string{"mail.log:1:a", "mail.log:2:b"}},
			{ops: []fsOp{appendLog("mail.log", "c\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", "xx\nyy\nzz\n")},
				want: []string{"mail.log.1:3:c", "mail.log:1:xx", "mail.log:2:yy", "mail.log:3:zz"}},
		}},
		{name: "crlf written in pieces", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "x\r\n")}, want: []string{"mail.log:1:x"}},
			{ops: []fsOp{appendLog("mail.log", "a")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "\r")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "\n")}, want: []string{"mail.log:2:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\r\nc")}, want: []string{"mail.log:3:b"}},
			{ops: []fsOp{appendLog("mail.log", "\r\n")}, want: []string{"mail.log:4:c"}},
		}},
		{name: "line written in many pieces", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "Nov")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", " 24 10:00:01")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", " mx dovecot:")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", " ok\nnext")}, want: []string{"mail.log:1:Nov 24 10:00:01 mx dovecot: ok"}},
		}},
		{name: "over-long line across polls", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", strings.Repeat("x", 40_000))}, want: nil},
			{ops: []fsOp{appendLog("mail.log", strings.Repeat("x", 40_000))}, want: nil},
			{ops: []fsOp{appendLog("mail.log", strings.Repeat("x", 40_000))}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "\nok\n")}, want: []string{"mail.log:3:ok"}},
		}},
		{name: "deleted with a partial line, recreated later", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{remove("mail.log")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "c\n")}, want: []string{"mail.log:2:b", "mail.log:1:c"}},
		}},
		{name: "rotated with compression at once, twice in one interval", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), gzipTo("mail.log.1", "mail.log.1.gz"), appendLog("mail.log", "c\n"),
				rename("mail.log.1.gz", "mail.log.2.gz"), rename("mail.log", "mail.log.1"), gzipTo("mail.log.1", "mail.log.1.gz"), appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log:2:b", "mail.log.1.gz:1:c", "mail.log:1:d"}},
		}},
		// Regression: truncated and regrown past the position with the
		// same first KiB went unnoticed: the new content was read from
		// the old offset.
		{name: "copytruncate regrown with identical header", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", hdr+"\na\n")}, want: []string{"mail.log:1:" + hdr, "mail.log:2:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", hdr+"\nxx\nyy\n")},
				want: []string{"mail.log.1:3:b", "mail.log:1:" + hdr, "mail.log:2:xx", "mail.log:3:yy"}},
			{ops: []fsOp{appendLog("mail.log", "zz\n")}, want: []string{"mail.log:4:zz"}},
		}},
		// Regressions (issue 10): two rotations within one poll interval,
		// at least one of them a copytruncate, lost the lines between.
		{name: "copytruncate, lines, copytruncate", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", "c1\nc2\n"),
				rename("mail.log.1", "mail.log.2"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log.2:2:b", "mail.log.1:1:c1", "mail.log.1:2:c2", "mail.log:1:d"}},
		}},
		{name: "copytruncate, lines, create", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", "c1\nc2\n"),
				rename("mail.log.1", "mail.log.2"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log.2:2:b", "mail.log.1:1:c1", "mail.log.1:2:c2", "mail.log:1:d"}},
		}},
		{name: "copytruncate without a copy", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb\n")}, want: []string{"mail.log:1:a", "mail.log:2:b"}},
			{ops: []fsOp{copyTruncate("mail.log", "elsewhere"), appendLog("mail.log", "xx\nyy\n")},
				want: []string{"mail.log:1:xx", "mail.log:2:yy"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				// The first step's ops run before the follower starts, so
				// FromEnd has something to skip.
				for _, op := range tt.steps[0].ops {
					op(t, dir)
				}
				h := startFollow(t, dir, tt.opts)
				for i, step := range tt.steps {
					if i > 0 {
						for _, op := range step.ops {
							op(t, dir)
						}
					}
					if got := h.settle(); !slices.Equal(got, step.want) {
						t.Fatalf("step %d:\n got %q\nwant %q", i+1, got, step.want)
					}
				}
				if err := h.stop(); !errors.Is(err, context.Canceled) {
					t.Errorf("Next after cancel: %v, want context.Canceled", err)
				}
				// Entry is just past the last line returned: resuming
				// from it delivers exactly what came after.
				appendLog("mail.log", "z\n")(t, dir)
				var st State
				path := filepath.Join(dir, "mail.log")
				st.Set(path, h.entry)
				got := resumeRun(t, &st, dir, path)
				if len(got) != 1 || !strings.HasSuffix(got[0], "z") {
					t.Errorf("resumed from Entry %+v: %q, want one line ending in z", h.entry, got)
				}
			})
		})
	}
}

// TestFollowFastRotations rotates by rename+create 5 times, 1000 lines per
// generation, each rotation one poll interval after the last: nothing
// may be lost or duplicated, and the order must be kept.
func TestFollowFastRotations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		h := startFollow(t, dir, FollowOptions{})
		var want []string
		n := 0
		lines := func(k int) string {
			var b strings.Builder
			for range k {
				n++
				fmt.Fprintf(&b, "line %d\n", n)
				want = append(want, fmt.Sprintf("line %d", n))
			}
			return b.String()
		}
		appendLog("mail.log", lines(1000))(t, dir)
		all := h.settle() // the follower has opened the first generation
		for range 5 {
			appendLog("mail.log", lines(1000))(t, dir)
			rename("mail.log", "mail.log.1")(t, dir)
			appendLog("mail.log", lines(1000))(t, dir)
			time.Sleep(testInterval + time.Millisecond)
		}
		got := append(all, h.settle()...)
		if err := h.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("stop: %v", err)
		}
		texts := make([]string, len(got))
		for i, g := range got {
			texts[i] = g[strings.LastIndexByte(g, ':')+1:]
		}
		if !slices.Equal(texts, want) {
			i := 0
			for i < min(len(texts), len(want)) && texts[i] == want[i] {
				i++
			}
			t.Fatalf("got %d lines, want %d; first difference at %d", len(texts), len(want), i)
		}
	})
}

// TestFollowEntry follows, saves the position on stop, rotates while
// stopped and follows again from the saved entry.
func TestFollowEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		appendLog("mail.log", "a\nb\n")(t, dir)
		h := startFollow(t, dir, FollowOptions{})
		if got, want := h.settle(), []string{"mail.log:1:a", "mail.log:2:b"}; !slices.Equal(got, want) {
			t.Fatalf("first: %q, want %q", got, want)
		}
		h.stop()
		e := h.entry
		if e.Offset != 4 || e.Line != 2 {
			t.Fatalf("Entry %+v", e)
		}
		appendLog("mail.log", "c\n")(t, dir)
		rename("mail.log", "mail.log.1")(t, dir)
		appendLog("mail.log", "d\n")(t, dir)
		h = startFollow(t, dir, FollowOptions{Entry: e, FromEnd: true})
		if got, want := h.settle(), []string{"mail.log.1:3:c", "mail.log:1:d"}; !slices.Equal(got, want) {
			t.Fatalf("resumed: %q, want %q", got, want)
		}
		appendLog("mail.log", "e\n")(t, dir)
		if got, want := h.settle(), []string{"mail.log:2:e"}; !slices.Equal(got, want) {
			t.Fatalf("then: %q, want %q", got, want)
		}
		h.stop()
	})
}

func TestFollowCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f := Follow(filepath.Join(t.TempDir(), "mail.log"), FollowOptions{})
	defer f.Close()
	if _, err := f.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next: %v, want context.Canceled", err)
	}
	if !f.Entry().IsZero() {
		t.Errorf("Entry %+v, want zero", f.Entry())
	}
}

func TestFollowLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		appendLog("mail.log", "abcd\nab\n")(t, dir)
		h := startFollow(t, dir, FollowOptions{Max: 3})
		if got, want := h.settle(), []string{"mail.log:2:ab"}; !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		copyTruncate("mail.log", "elsewhere")(t, dir)
		appendLog("mail.log", "wxyz\nxy\n")(t, dir)
		if got, want := h.settle(), []string{"mail.log:2:xy"}; !slices.Equal(got, want) {
			t.Fatalf("after truncation: %q, want %q", got, want)
		}
		rename("mail.log", "mail.log.1")(t, dir)
		appendLog("mail.log", "12345\n")(t, dir)
		h.settle()
		if n := h.f.Long(); n != 3 {
			t.Errorf("Long = %d, want 3", n)
		}
		h.stop()
		if n := h.f.Long(); n != 3 {
			t.Errorf("Long after Close = %d, want 3", n)
		}
	})
}

// TestFollowEntryMidway stops a Follower after each line while it drains
// two rotations caught in one poll interval: resuming from its Entry must
// deliver exactly the lines it had not returned yet.
func TestFollowEntryMidway(t *testing.T) {
	rest := []string{"b1", "b2", "c1", "c2", "d1", "d2"}
	for k := 0; k <= len(rest); k++ {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "mail.log")
				appendLog("mail.log", "a\n")(t, dir)
				f := Follow(path, FollowOptions{Interval: testInterval})
				defer f.Close()
				if line, err := f.Next(t.Context()); err != nil || string(line) != "a" {
					t.Fatalf("Next = %q, %v", line, err)
				}
				for _, op := range []fsOp{
					appendLog("mail.log", "b1\nb2\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "c1\nc2\n"),
					rename("mail.log.1", "mail.log.2"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d1\nd2\n"),
				} {
					op(t, dir)
				}
				for i := range k {
					line, err := f.Next(t.Context())
					if err != nil || string(line) != rest[i] {
						t.Fatalf("line %d: %q, %v; want %q", i, line, err, rest[i])
					}
				}
				var st State
				st.Set(path, f.Entry())
				appendLog("mail.log", "z\n")(t, dir)
				got := resumeRun(t, &st, dir, path)
				for i, g := range got {
					got[i] = g[strings.LastIndexByte(g, ':')+1:]
				}
				want := append(slices.Clone(rest[k:]), "z")
				if !slices.Equal(got, want) {
					t.Errorf("resumed from %+v: %q, want %q", f.Entry(), got, want)
				}
			})
		})
	}
}

// TestFollowUnreadable: when what appears at the path cannot be read (a
// directory here; a file without read permission alike), Next returns an
// error naming it on every call instead of spinning, and goes on once it
// is fixed.
func TestFollowUnreadable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "mail.log")
		appendLog("mail.log", "a\n")(t, dir)
		f := Follow(path, FollowOptions{Interval: testInterval})
		defer f.Close()
		next := func() string {
			line, err := f.Next(t.Context())
			if err != nil {
				return "error: " + err.Error()
			}
			return string(line)
		}
		if got := next(); got != "a" {
			t.Fatalf("first: %q", got)
		}
		rename("mail.log", "mail.log.1")(t, dir)
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		appendLog("mail.log.1", "b\n")(t, dir)
		if got := next(); got != "b" {
			t.Fatalf("rest of the old generation: %q", got)
		}
		for i := range 2 {
			if got := next(); !strings.HasPrefix(got, "error: ") || !strings.Contains(got, path) {
				t.Fatalf("call %d: %q, want an error naming %s", i, got, path)
			}
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		appendLog("mail.log", "c\n")(t, dir)
		if got := next(); got != "c" {
			t.Fatalf("after the fix: %q", got)
		}
	})
}

// TestFollowTruncatedGzip: following from an Entry whose generation is
// now a .gz cut short returns an error naming it after its last complete
// line, keeps Entry there, and on the next call gives the rest of that
// generation up and goes on with the current file.
func TestFollowTruncatedGzip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "mail.log")
		var all strings.Builder
		all.WriteString("first\n")
		for i := range 20000 {
			fmt.Fprintf(&all, "line %d %x\n", i, i*7919)
		}
		appendLog("mail.log", "first\n")(t, dir)
		e, err := EndEntry(path)
		if err != nil {
			t.Fatal(err)
		}
		z := gz(t, all.String())
		remove("mail.log")(t, dir)
		writeRaw("mail.log.1.gz", z[:len(z)/2])(t, dir)
		appendLog("mail.log", "new\n")(t, dir)
		gzName := filepath.Join(dir, "mail.log.1.gz")

		f := Follow(path, FollowOptions{Interval: testInterval, Entry: e})
		defer f.Close()
		n := 0
		for {
			line, err := f.Next(t.Context())
			if err != nil {
				if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), gzName) {
					t.Fatalf("error %v, want unexpected EOF naming %s", err, gzName)
				}
				break
			}
			if want := fmt.Sprintf("line %d %x", n, n*7919); string(line) != want {
				t.Fatalf("line %q, want %q", line, want)
			}
			n++
		}
		if n == 0 {
			t.Fatal("no line before the error")
		}
		if got := f.Entry(); got.Line != 1+n || got.Offset <= e.Offset {
			t.Errorf("Entry after the error %+v, want line %d of the .gz", got, 1+n)
		}
		if line, err := f.Next(t.Context()); err != nil || string(line) != "new" || f.Name() != path {
			t.Errorf("then: %q, %v from %s; want new from %s", line, err, f.Name(), path)
		}
	})
}

// TestFollowNextGenerationRotatedAway: the file seen at the path when a
// rotation was noticed is rotated away again before the follower opens
// it; it is still read, before the file now at the path.
func TestFollowNextGenerationRotatedAway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mv := func(from, to string) {
		t.Helper()
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	write("mail.log", "a\n")
	f := Follow(path, FollowOptions{Interval: time.Millisecond})
	defer f.Close()
	next := func() string {
		t.Helper()
		line, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(line)
	}
	if got := next(); got != "a" {
		t.Fatalf("first line %q", got)
	}
	mv("mail.log", "mail.log.1")
	write("mail.log", "b\n")
	if err := f.check(); err != nil { // the poll that notices the rotation
		t.Fatal(err)
	}
	// Before the follower opens the new file, logrotate runs again.
	mv("mail.log.1", "mail.log.2")
	mv("mail.log", "mail.log.1")
	write("mail.log", "c\n")
	if got := []string{next(), next()}; !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("lines %q, want [b c]", got)
	}
}
