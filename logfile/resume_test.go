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
	"time"
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
		fi, err := os.Stat(filepath.Join(dir, from))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, to), gz(t, string(b)))
		// logrotate (and gzip) give the compressed file the original's
		// modification time.
		if err := os.Chtimes(filepath.Join(dir, to), fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
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

// age sets the modification time of name to d before a fixed time in the
// past, so tests do not depend on the file system's clock granularity.
func age(name string, d time.Duration) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		mt := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Add(-d)
		if err := os.Chtimes(filepath.Join(dir, name), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

// writeRaw creates or replaces name with data.
func writeRaw(name string, data []byte) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		writeFile(t, filepath.Join(dir, name), data)
	}
}

// gzipRaw writes s gzip-compressed to name, keeping only the first n
// bytes of the compressed stream when n > 0 (a generation still being
// compressed, or cut short).
func gzipRaw(name, s string, n int) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		b := gz(t, s)
		if n > 0 {
			b = b[:n]
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
}

// recreate replaces name by a copy of itself: same content, new inode.
func recreate(name string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name+".tmp"), b)
		rename(name+".tmp", name)(t, dir)
	}
}

func mkdir(name string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// symlink makes name a symbolic link to target (relative to name's
// directory), creating name's directory and target's if needed.
func symlink(target, name string) fsOp {
	return func(t *testing.T, dir string) {
		t.Helper()
		p := filepath.Join(dir, name)
		for _, d := range []string{filepath.Dir(p), filepath.Join(filepath.Dir(p), filepath.Dir(target))} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(target, p); err != nil {
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
	long := strings.Repeat("L", 2000)       // longer than a fingerprint
	hdr := "# " + strings.Repeat("H", 1100) // a header longer than a fingerprint, repeated at each rotation
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
		// Regression: every generation starts with the same 1 KiB header,
		// so the newer generation carries the saved fingerprint too and
		// was picked, skipping the rest of the saved one.
		{name: "identical headers, two rotations", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", hdr+"\na\n")}, want: []string{"mail.log:1:" + hdr, "mail.log:2:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", hdr+"\nc\nccc\n"),
				rename("mail.log.1", "mail.log.2"), rename("mail.log", "mail.log.1"), appendLog("mail.log", hdr+"\nd\n"),
			}, want: []string{"mail.log.2:3:b", "mail.log.1:1:" + hdr, "mail.log.1:2:c", "mail.log.1:3:ccc", "mail.log:1:" + hdr, "mail.log:2:d"}},
		}},
		// Regression: the newer compressed generation carries the saved
		// fingerprint but is shorter than the saved offset; it was
		// "positioned" past its end and the saved one skipped.
		{name: "identical headers, compressed, newer one shorter", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", hdr+"\naaaa\n")}, want: []string{"mail.log:1:" + hdr, "mail.log:2:aaaa"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.2"), gzipTo("mail.log.2", "mail.log.2.gz"),
				gzipRaw("mail.log.1.gz", hdr+"\nc\n", 0), appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log.2.gz:3:b", "mail.log.1.gz:1:" + hdr, "mail.log.1.gz:2:c", "mail.log:1:d"}},
		}},
		{name: "identical headers, compressed, newer one longer", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", hdr+"\naaaa\n")}, want: []string{"mail.log:1:" + hdr, "mail.log:2:aaaa"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.2"), gzipTo("mail.log.2", "mail.log.2.gz"),
				gzipRaw("mail.log.1.gz", hdr+"\nzzzz\nc\n", 0), appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log.2.gz:3:b", "mail.log.1.gz:1:" + hdr, "mail.log.1.gz:2:zzzz", "mail.log.1.gz:3:c", "mail.log:1:d"}},
		}},
		// Regression: truncated and rewritten past the saved offset with
		// the same first bytes was taken for the same content.
		{name: "copytruncate regrown with identical header", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", hdr+"\na\n")}, want: []string{"mail.log:1:" + hdr, "mail.log:2:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), copyTruncate("mail.log", "mail.log.1"), appendLog("mail.log", hdr+"\nxx\nyy\n")},
				want: []string{"mail.log.1:3:b", "mail.log:1:" + hdr, "mail.log:2:xx", "mail.log:3:yy"}},
		}},
		// Regression: while logrotate compresses mail.log.2 into
		// mail.log.2.gz both exist, and both were read.
		{name: "generation being compressed read once", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.3"), gzipTo("mail.log.3", "mail.log.3.gz"),
				writeRaw("mail.log.2", []byte("c\n")), gzipRaw("mail.log.2.gz", "c\n", 12),
				writeRaw("mail.log.1", []byte("d\n")), appendLog("mail.log", "e\n"),
			}, want: []string{"mail.log.3.gz:2:b", "mail.log.2:1:c", "mail.log.1:1:d", "mail.log:1:e"}},
		}},
		// Regression: a generation compressed with a tool this package
		// cannot decompress was read as plain text (binary garbage).
		{name: "undecodable compressed generation skipped", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{
				appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.2"),
				writeRaw("mail.log.1.xz", []byte("\xfd7zXZ\x00\n\x01\n")), writeRaw("mail.log.1.zst", []byte("\x28\xb5\x2f\xfd\n\n")),
				appendLog("mail.log", "d\n"),
			}, want: []string{"mail.log.2:2:b", "mail.log:1:d"}},
		}},
		// Regression: right after a rename rotation the new file is empty
		// while the writer still appends to the renamed one; the run
		// committed the empty file and lost the late lines.
		{name: "empty current while writer still on rotated", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{rename("mail.log", "mail.log.1"), appendLog("mail.log", "")}, want: nil},
			{ops: []fsOp{appendLog("mail.log.1", "late\npart")}, want: []string{"mail.log.1:2:late"}},
			{ops: []fsOp{appendLog("mail.log.1", "ial\n")}, want: []string{"mail.log.1:3:partial"}},
			{ops: []fsOp{appendLog("mail.log", "new\n")}, want: []string{"mail.log:1:new"}},
			{ops: []fsOp{appendLog("mail.log", "more\n")}, want: []string{"mail.log:2:more"}},
		}},
		{name: "dateext with hour and epoch", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-2026112410"), appendLog("mail.log", "c\n"),
				rename("mail.log", "mail.log-2026112411"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log-2026112410:2:b", "mail.log-2026112411:1:c", "mail.log:1:d"}},
		}},
		{name: "dateext epoch", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-1795500000"), appendLog("mail.log", "c\n"),
				rename("mail.log", "mail.log-1795600000"), gzipTo("mail.log-1795500000", "mail.log-1795500000.gz"), appendLog("mail.log", "d\n")},
				want: []string{"mail.log-1795500000.gz:2:b", "mail.log-1795600000:1:c", "mail.log:1:d"}},
		}},
		// FreeBSD newsyslog compresses at once with bzip2 (flag J).
		{name: "newsyslog bzip2", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), remove("mail.log"), writeRaw("mail.log.0.bz2", bz2(t, "a\nb\n")), appendLog("mail.log", "c\n")},
				want: []string{"mail.log.0.bz2:2:b", "mail.log:1:c"}},
		}},
		// Regression: the log is a symbolic link into another directory,
		// where logrotate rotates the file it points to; the rotated
		// generations were looked for next to the link only.
		{name: "symlink to a log rotated elsewhere", steps: []resumeStep{
			{ops: []fsOp{symlink("real/mail.log", "mail.log"), appendLog("real/mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("real/mail.log", "b\n"), rename("real/mail.log", "real/mail.log.1"), appendLog("real/mail.log", "c\n")},
				want: []string{"real/mail.log.1:2:b", "mail.log:1:c"}},
			{ops: []fsOp{appendLog("real/mail.log", "d\n"), rename("real/mail.log.1", "real/mail.log.2"), rename("real/mail.log", "real/mail.log.1")},
				want: []string{"real/mail.log.1:2:d"}},
			{ops: []fsOp{appendLog("real/mail.log", "e\n")}, want: []string{"mail.log:1:e"}},
		}},
		// A regular file replaced by a link to where it was moved.
		{name: "file moved and replaced by a symlink", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), mkdir("data"), rename("mail.log", "data/mail.log"), symlink("data/mail.log", "mail.log")},
				want: []string{"mail.log:2:b"}},
		}},
		// Regression: the same content under a new inode (restored from a
		// backup, another file system, device renumbered at boot) was
		// read again from its start.
		{name: "same content, new inode", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), recreate("mail.log")}, want: []string{"mail.log:2:b"}},
			{ops: []fsOp{recreate("mail.log"), appendLog("mail.log", "c\n")}, want: []string{"mail.log:3:c"}},
		}},
		{name: "dateformat -%Y-%m-%d", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-2026-11-24"), appendLog("mail.log", "c\n")},
				want: []string{"mail.log-2026-11-24:2:b", "mail.log:1:c"}},
		}},
		{name: "rhel maillog dateext", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-20261124"), appendLog("mail.log", "c\n")},
				want: []string{"mail.log-20261124:2:b", "mail.log:1:c"}},
		}},
		{name: "newsyslog .0 and rhel maillog names", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.0"), appendLog("mail.log", "c\n")},
				want: []string{"mail.log.0:2:b", "mail.log:1:c"}},
		}},
		// Regression (issue 10): generations are ordered by content age
		// (their last write), not by name: a dateext generation, then a
		// numbered one after the admin switched schemes, lost the 20 lines
		// of the numbered one.
		{name: "naming scheme switched between runs", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log-20261101"), appendLog("mail.log", "c\nd\n"),
				rename("mail.log", "mail.log.1"), appendLog("mail.log", "e\n"),
				age("mail.log-20261101", 2*time.Hour), age("mail.log.1", time.Hour)},
				want: []string{"mail.log-20261101:2:b", "mail.log.1:1:c", "mail.log.1:2:d", "mail.log:1:e"}},
		}},
		{name: "numbered then dated", steps: []resumeStep{
			{ops: []fsOp{appendLog("mail.log", "a\n")}, want: []string{"mail.log:1:a"}},
			{ops: []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "c\n"),
				rename("mail.log", "mail.log-20261101"), appendLog("mail.log", "e\n"),
				age("mail.log.1", 2*time.Hour), age("mail.log-20261101", time.Hour)},
				want: []string{"mail.log.1:2:b", "mail.log-20261101:1:c", "mail.log:1:e"}},
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

// TestResumeTruncatedGzip: a rotated generation whose gzip stream is cut
// short yields an error naming it after its last complete line, and the
// entry committed then neither skips past what was delivered nor
// delivers it again.
func TestResumeTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	var all strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&all, "line %d %x\n", i, i*7919)
	}
	var st State
	appendLog("mail.log", "first\n")(t, dir)
	resumeRun(t, &st, dir, path)
	appendLog("mail.log", all.String())(t, dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	z := gz(t, string(b))
	remove("mail.log")(t, dir)
	writeRaw("mail.log.1.gz", z[:len(z)/2])(t, dir)
	appendLog("mail.log", "new\n")(t, dir)
	gzName := filepath.Join(dir, "mail.log.1.gz")

	read := func() (lines []string, err error) {
		rs, err := Resume(path, st.Entry(path))
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		for {
			line, err := rs.Next()
			if err != nil {
				st.Set(path, rs.Commit())
				return lines, err
			}
			lines = append(lines, string(line))
		}
	}
	lines, err := read()
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), gzName) {
		t.Fatalf("error %v, want unexpected EOF naming %s", err, gzName)
	}
	if len(lines) == 0 || lines[0] != "line 0 0" {
		t.Fatalf("read %d lines before the error, first %q", len(lines), lines[:min(1, len(lines))])
	}
	e := st.Entry(path)
	wantOff := int64(len("first\n"))
	for _, l := range lines {
		wantOff += int64(len(l)) + 1
	}
	if e.Offset != wantOff || e.Line != 1+len(lines) {
		t.Errorf("committed offset %d line %d, want %d %d", e.Offset, e.Line, wantOff, 1+len(lines))
	}
	again, err := read()
	if len(again) != 0 || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), gzName) {
		t.Errorf("second run: %d lines, error %v; want none and the same error", len(again), err)
	}

	// Calling Next again after the error gives up the damaged
	// generation and goes on with the current file.
	rs, err := Resume(path, st.Entry(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if _, err := rs.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Next: %v, want the error again", err)
	}
	if line, err := rs.Next(); err != nil || string(line) != "new" || rs.Name() != path || rs.LineNo() != 1 {
		t.Fatalf("after the error: %q, %v from %s:%d; want new from %s:1", line, err, rs.Name(), rs.LineNo(), path)
	}
	if _, err := rs.Next(); err != io.EOF {
		t.Errorf("then: %v, want EOF", err)
	}
	if e := rs.Commit(); e.Offset != 4 || e.Line != 1 {
		t.Errorf("Commit %+v, want offset 4 line 1", e)
	}
}

// TestResumeUnreadable: a log that cannot be read is an error naming it,
// with or without a saved entry.
func TestResumeUnreadable(t *testing.T) {
	tests := []struct {
		name     string
		make     fsOp
		needUser bool // permissions do not stop root
	}{
		{name: "directory", make: mkdir("mail.log")},
		{name: "no read permission", needUser: true, make: func(t *testing.T, dir string) {
			appendLog("mail.log", "a\n")(t, dir)
			if err := os.Chmod(filepath.Join(dir, "mail.log"), 0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		for _, e := range []Entry{{}, {Dev: 1, Inode: 2, Offset: 2, Line: 1}} {
			t.Run(fmt.Sprintf("%s/offset %d", tt.name, e.Offset), func(t *testing.T) {
				if tt.needUser && os.Geteuid() == 0 {
					t.Skip("root ignores file permissions")
				}
				dir := t.TempDir()
				path := filepath.Join(dir, "mail.log")
				tt.make(t, dir)
				rs, err := Resume(path, e)
				if err == nil {
					_, err = rs.Next()
					rs.Close()
				}
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Errorf("error %v, want one naming %s", err, path)
				}
			})
		}
	}
}

// TestResumeGap: when the generation holding the saved position is gone
// (rotate 1 and two rotations between runs), Resume still reads what is
// there but reports the gap, naming the log and what is missing.
func TestResumeGap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	var st State
	appendLog("mail.log", "a\n")(t, dir)
	resumeRun(t, &st, dir, path)
	for _, op := range []fsOp{appendLog("mail.log", "b\n"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "c\n"),
		remove("mail.log.1"), rename("mail.log", "mail.log.1"), appendLog("mail.log", "d\n")} {
		op(t, dir)
	}
	rs, err := Resume(path, st.Entry(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	gap := rs.Gap()
	var ge *GapError
	if !errors.As(gap, &ge) || ge.Path != path || !strings.Contains(gap.Error(), path) || !strings.Contains(gap.Error(), "after line 1") {
		t.Fatalf("Gap() = %v, want a *GapError naming %s and line 1", gap, path)
	}
	if line, err := rs.Next(); err != nil || string(line) != "d" {
		t.Errorf("then %q, %v; want d", line, err)
	}
	// Unchanged or rotated normally: no gap.
	st.Set(path, rs.Commit())
	appendLog("mail.log", "e\n")(t, dir)
	rs2, err := Resume(path, st.Entry(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rs2.Close()
	if g := rs2.Gap(); g != nil {
		t.Errorf("Gap() = %v on a plain append", g)
	}
}
