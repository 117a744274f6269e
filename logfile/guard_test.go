package logfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
