package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadStateMissing(t *testing.T) {
	st, err := LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Files) != 0 || !st.Entry("/var/log/mail.log").IsZero() {
		t.Errorf("missing state file gave %+v", st)
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var st State
	a := Entry{Dev: 1, Inode: 2, Offset: 300, Line: 4, FPLen: 5, FP: strings.Repeat("ab", 32)}
	st.Set("/var/log/mail.log", a)
	st.Set("/var/log/other.log", Entry{Offset: 1})
	a.Offset = 301
	st.Set("/var/log/mail.log", a) // replaces
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(path); err != nil { // over an existing file
		t.Fatal(err)
	}
	got, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Path = "/var/log/mail.log"
	if e := got.Entry("/var/log/mail.log"); e != want {
		t.Errorf("entry %+v, want %+v", e, want)
	}
	if len(got.Files) != 2 || got.Version != StateVersion {
		t.Errorf("state %+v", got)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestLoadStateCorrupt(t *testing.T) {
	fp := strings.Repeat("00", 32)
	tests := []struct {
		name, data, want string
	}{
		{name: "not json", data: "{", want: "corrupt state file"},
		{name: "truncated", data: `{"version":1,"files":[{"path":"a"`, want: "corrupt state file"},
		{name: "wrong version", data: `{"version":2,"files":[]}`, want: "unsupported state version 2"},
		{name: "no version", data: `{"files":[]}`, want: "unsupported state version 0"},
		{name: "unknown field", data: `{"version":1,"files":[],"x":1}`, want: "unknown field"},
		{name: "negative offset", data: `{"version":1,"files":[{"path":"a","offset":-1}]}`, want: "negative offset"},
		{name: "bad fp", data: `{"version":1,"files":[{"path":"a","fp_len":3,"fp":"zz"}]}`, want: "not a hex SHA-256"},
		{name: "fp_len too big", data: `{"version":1,"files":[{"path":"a","fp_len":1025,"fp":"` + fp + `"}]}`, want: "out of range"},
		{name: "no path", data: `{"version":1,"files":[{"offset":1}]}`, want: "entry without path"},
		// Regressions: a newer version's new fields hid its version
		// behind "unknown field"; data after the JSON value (two
		// writers, a torn write) was ignored.
		{name: "newer version with new fields", data: `{"version":2,"files":[],"x":1}`, want: "unsupported state version 2"},
		{name: "trailing data", data: `{"version":1,"files":[]}{"version":1,"files":[{"path":"a"}]}`, want: "corrupt state file"},
		{name: "trailing garbage", data: `{"version":1,"files":[]}` + "\n\x00\x00", want: "corrupt state file"},
		{name: "bad tail", data: `{"version":1,"files":[{"path":"a","offset":5,"tail_len":5,"tail":"zz"}]}`, want: "not a hex SHA-256"},
		{name: "tail longer than offset", data: `{"version":1,"files":[{"path":"a","offset":2,"tail_len":5,"tail":"` + fp + `"}]}`, want: "out of range"},
		{name: "duplicate", data: `{"version":1,"files":[{"path":"a"},{"path":"a"}]}`, want: "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			writeFile(t, path, []byte(tt.data))
			_, err := LoadState(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tt.want)
			}
		})
	}
}

func TestSaveError(t *testing.T) {
	var st State
	path := filepath.Join(t.TempDir(), "missing-dir", "state.json")
	err := st.Save(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s", err, path)
	}
}

// TestSaveFailureKeepsOld: a Save that cannot write (read-only directory)
// names the state file and leaves the old state loadable as it was.
func TestSaveFailureKeepsOld(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	var st State
	st.Set("/var/log/mail.log", Entry{Offset: 1})
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	st.Set("/var/log/mail.log", Entry{Offset: 2})
	if err := st.Save(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save in a read-only directory: %v, want an error naming %s", err, path)
	}
	got, err := LoadState(path)
	if err != nil || got.Entry("/var/log/mail.log").Offset != 1 {
		t.Errorf("old state after a failed Save: %+v, %v", got, err)
	}
	if _, err := Lock(path); err == nil || !strings.Contains(err.Error(), path+".lock") {
		t.Errorf("Lock in a read-only directory: %v, want an error naming the lock file", err)
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	lk, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+".lock") {
		t.Fatalf("second Lock: %v, want ErrLocked naming the lock file", err)
	}
	if err := lk.Unlock(); err != nil {
		t.Fatal(err)
	}
	lk2, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	lk2.Unlock()
	if err := lk2.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
}

// TestLoadStateEmptyFile: a state file created by hand (touch) is no
// state, not a corrupt one.
func TestLoadStateEmptyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "scan.state")
	if err := os.WriteFile(p, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(p)
	if err != nil || len(st.Files) != 0 || st.Version != StateVersion {
		t.Fatalf("LoadState(empty file) = %+v, %v; want an empty state", st, err)
	}
}
