package logfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fsOp changes the files in a test directory.
type fsOp func(t *testing.T, dir string)

func appendLog(name, s string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func rename(from, to string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(name string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// gzipTo compresses from into to and removes from, as logrotate's
// compress does.
func gzipTo(from, to string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, from))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, to), gz(t, string(b)))
		remove(from)(t, dir)
	}
}

// copyTruncate copies from to to and truncates from in place, as
// logrotate's copytruncate does.
func copyTruncate(from, to string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, from))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, to), b)
		if err := os.Truncate(filepath.Join(dir, from), 0); err != nil {
			t.Fatal(err)
		}
	}
}

// resumeRun reads path from its entry in st like a cron run and records
// the new entry. Lines are "name:lineno:text" with name relative to dir.
func resumeRun(t *testing.T, st *State, dir, path string) []string {
	t.Helper()
	rs, err := Resume(path, st.Entry(path))
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	defer rs.Close()
	var got []string
	for {
		line, err := rs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		name, _ := filepath.Rel(dir, rs.Name())
		got = append(got, fmt.Sprintf("%s:%d:%s", name, rs.LineNo(), line))
	}
	st.Set(path, rs.Commit())
	return got
}

type resumeStep struct {
	ops  []fsOp
	want []string
}

func TestResume(t *testing.T) {
	long := strings.Repeat("L", 2000) // longer than a fingerprint
	tests := []struct {
		name  string
		steps []resumeStep
	}{
		{name: "partial last line read next time", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb\nc")}, want: []string{"mail.log:1:a", "mail.log:2:b"}},
			{ops: []fsOp{appendLog("mail.log", "d\ne\n")}, want: []string{"mail.log:3:cd", "mail.log:4:e"}},
			{want: nil},
			{ops: []fsOp{appendLog("mail.log", "f\n")}, want: []string{"mail.log:5:f"}},
		}},
		{name: "rename and create", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\nc"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log.1:2:b", "mail.log.1:3:c", "mail.log:1:d"}},
			{ops: []fsOp{appendLog("mail.log", "e\n")}, want: []string{"mail.log:2:e"}},
		}},
		{name: "rotated and compressed", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", long+"\na\n")}, want: []string{"mail.log:1:" + long, "mail.log:2:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), gzipTo("mail.log.1", "mail.log.1.gz"), appendLog("mail.log", "c\n")},
				want: []string{"mail.log.1.gz:3:b", "mail.log:1:c"}},
		}},
		{name: "dateext compressed", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-20261124"), gzipTo("mail.log-20261124", "mail.log-20261124.gz"), appendLog("mail.log", "c\n")},
				want: []string{"mail.log-20261124.gz:2:b", "mail.log:1:c"}},
		}},
		{name: "delaycompress two rotations", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log.1", "old\n"), appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"),
				gzipTo("mail.log.1", "mail.log.2.gz"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "c\n"),
				rename("mail.log.2.gz", "mail.log.3.gz"), gzipTo("mail.log.1", "mail.log.2.gz"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log.2.gz:2:b", "mail.log.1:1:c", "mail.log:1:d"}},
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
		{name: "copytruncate regrown, copy deleted", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb\n")}, want: []string{"mail.log:1:a", "mail.log:2:b"}},
			{ops: []fsOp{copyTruncate("mail.log", "mail.log.1"), remove("mail.log.1"), appendLog("mail.log", "xx\nyy\n")},
				want: []string{"mail.log:1:xx", "mail.log:2:yy"}},
		}},
		{name: "replaced by unrelated content", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{remove("mail.log"), appendLog("mail.log.1", "zzz\n"), appendLog("mail.log", "b\n")}, want: []string{"mail.log:1:b"}},
		}},
		{name: "current missing after rename", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1")}, want: []string{"mail.log.1:2:b"}},
			{ops: []fsOp{appendLog("mail.log", "c\n")}, want: []string{"mail.log:1:c"}},
		}},
		{name: "empty file then rotation", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "")}, want: nil},
			{ops: []fsOp{appendLog("mail.log", "a\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "b\n")},
				want: []string{"mail.log.1:1:a", "mail.log:1:b"}},
		}},
		{name: "partial line in rotated generation is final", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\nb")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{rename("mail.log", "mail.log.1"), appendLog("mail.log", "c\n")}, want: []string{"mail.log.1:2:b", "mail.log:1:c"}},
		}},
		{name: "unrelated siblings ignored", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n"), appendLog("mail.logger", "no\n"), appendLog("mail.log.bak", "no\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n")}, want: []string{"mail.log:2:b"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			var st State
			for i, step := range tt.steps {
				for _, op := range step.ops {
					op(t, dir)
				}
				got := resumeRun(t, &st, dir, path)
				if !slices.Equal(got, step.want) {
					t.Fatalf("run %d:\n got %q\nwant %q", i+1, short(got), short(step.want))
				}
			}
		})
	}
}

// TestResumeKilledBeforeStateWrite checks at-least-once delivery: a run
// that wrote its output but died before saving the state is repeated in
// full by the next run, and nothing is lost.
func TestResumeKilledBeforeStateWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	statePath := filepath.Join(dir, "state.json")
	cronRun := func(save bool) []string {
		st, err := LoadState(statePath)
		if err != nil {
			t.Fatal(err)
		}
		got := resumeRun(t, st, dir, path)
		if save {
			if err := st.Save(statePath); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	appendLog("mail.log", "a\n")(t, dir)
	if got := cronRun(true); !slices.Equal(got, []string{"mail.log:1:a"}) {
		t.Fatalf("run 1: %q", got)
	}
	appendLog("mail.log", "b\nc\n")(t, dir)
	first := cronRun(false) // killed after output
	rename("mail.log", "mail.log.1")(t, dir)
	appendLog("mail.log", "d\n")(t, dir)
	second := cronRun(true)
	want := []string{"mail.log:2:b", "mail.log:3:c"}
	if !slices.Equal(first, want) {
		t.Errorf("killed run: %q, want %q", first, want)
	}
	want = []string{"mail.log.1:2:b", "mail.log.1:3:c", "mail.log:1:d"}
	if !slices.Equal(second, want) {
		t.Errorf("next run: %q, want %q", second, want)
	}
	if got := cronRun(true); got != nil {
		t.Errorf("run after save: %q, want nothing", got)
	}
}

func TestResumeMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	_, err := Resume(path, Entry{})
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("error %v, want not-exist naming %s", err, path)
	}
	_, err = Resume(path, Entry{Path: path, Inode: 1, Offset: 10, FPLen: 1, FP: strings.Repeat("0", 64)})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("with an entry: error %v, want not-exist", err)
	}
}

func TestEndEntry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	appendLog("mail.log", "a\nb\npart")(t, dir)
	e, err := EndEntry(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.Offset != 4 || e.Line != 2 {
		t.Errorf("EndEntry: offset %d line %d, want 4 2", e.Offset, e.Line)
	}
	var st State
	st.Set(path, e)
	appendLog("mail.log", "ial\nc\n")(t, dir)
	if got, want := resumeRun(t, &st, dir, path), []string{"mail.log:3:partial", "mail.log:4:c"}; !slices.Equal(got, want) {
		t.Errorf("after EndEntry: %q, want %q", got, want)
	}
	if _, err := EndEntry(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestResumeCommitMidway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	var st State
	appendLog("mail.log", "a\n")(t, dir)
	resumeRun(t, &st, dir, path)
	appendLog("mail.log", "b\nc\n")(t, dir)
	rename("mail.log", "mail.log.1")(t, dir)
	appendLog("mail.log", "d\n")(t, dir)
	// Stop after one line of the rotated generation.
	rs, err := Resume(path, st.Entry(path))
	if err != nil {
		t.Fatal(err)
	}
	if line, err := rs.Next(); err != nil || string(line) != "b" {
		t.Fatalf("Next = %q, %v", line, err)
	}
	st.Set(path, rs.Commit())
	rs.Close()
	want := []string{"mail.log.1:3:c", "mail.log:1:d"}
	if got := resumeRun(t, &st, dir, path); !slices.Equal(got, want) {
		t.Errorf("after a partial run: %q, want %q", got, want)
	}
}

func TestResumeCompressedPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log.2.gz")
	writeFile(t, path, gz(t, "a\nb\n"))
	var st State
	if got, want := resumeRun(t, &st, dir, path), []string{"mail.log.2.gz:1:a", "mail.log.2.gz:2:b"}; !slices.Equal(got, want) {
		t.Fatalf("first run: %q, want %q", got, want)
	}
	if got := resumeRun(t, &st, dir, path); got != nil {
		t.Errorf("second run: %q, want nothing", got)
	}
}

func TestResumerSetMax(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	appendLog("mail.log", "abcd\nab\n")(t, dir)
	rs, err := Resume(path, Entry{})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rs.SetMax(3)
	line, err := rs.Next()
	if err != nil || string(line) != "ab" || rs.LineNo() != 2 {
		t.Fatalf("Next = %q, %v at line %d", line, err, rs.LineNo())
	}
	if _, err := rs.Next(); err != io.EOF || rs.Long() != 1 {
		t.Errorf("end: %v, Long %d", err, rs.Long())
	}
	if e := rs.Commit(); e.Offset != 8 || e.Line != 2 {
		t.Errorf("Commit %+v", e)
	}
}
