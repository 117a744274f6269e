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
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(events)+len(findings) {
		t.Fatalf("%d lines for %d records:\n%s", len(lines), len(events)+len(findings), buf.String())
	}
	checkTerminalSafe(t, buf.Bytes())
	golden(t, "live.txt", buf.Bytes())
}
