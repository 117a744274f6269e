package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestLiveWriter pins the one-line-per-record form of follow mode and
// that hostile text stays inert in it.
func TestLiveWriter(t *testing.T) {
	var buf bytes.Buffer
	l := NewLiveWriter(&buf)
	events, findings := fixtureEvents(), fixtureFindings()
	for _, e := range events {
		n := buf.Len()
		if err := l.Write(e.ev, e.o); err != nil {
			t.Fatal(err)
		}
		if buf.Len() == n {
			t.Fatal("Write printed nothing at once")
		}
	}
	fw := l.Findings()
	for _, f := range findings {
		if err := fw.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	// One line per event; a block per finding, its header starting
	// with FINDING, its other lines indented.
	var evLines, headers int
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "event  "):
			evLines++
		case strings.HasPrefix(l, "FINDING  "):
			headers++
		case !strings.HasPrefix(l, "    "):
			t.Errorf("line neither event, finding header nor indented: %q", l)
		}
	}
	if evLines != len(events) || headers != len(findings) {
		t.Fatalf("%d event lines and %d finding headers for %d events and %d findings:\n%s", evLines, headers, len(events), len(findings), buf.String())
	}
	checkTerminalSafe(t, buf.Bytes())
	golden(t, "live.txt", buf.Bytes())
}
