package report

import (
	"io"
	"strings"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

// A LiveWriter prints events and findings for a person watching a live
// log (scan --follow): one line each, written at once, with the cells of
// the event and findings tables separated by two spaces. Tables cannot be
// used there, since they are only drawn when complete. Every cell is
// sanitized. A LiveWriter is not safe for concurrent use.
type LiveWriter struct {
	w   io.Writer
	buf []byte
}

// NewLiveWriter returns a LiveWriter writing to w.
func NewLiveWriter(w io.Writer) *LiveWriter { return &LiveWriter{w: w} }

// Write prints one event; it implements EventWriter.
func (l *LiveWriter) Write(ev parse.Event, o ipranges.Origin) error {
	return l.line("event", eventRow(ev, o))
}

// WriteFinding prints one finding.
func (l *LiveWriter) WriteFinding(f rules.Finding) error {
	return l.line("FINDING", findingRow(f))
}

// Flush does nothing: every line is written when it is printed.
func (l *LiveWriter) Flush() error { return nil }

// Close does nothing; it never closes the underlying writer.
func (l *LiveWriter) Close() error { return nil }

func (l *LiveWriter) line(what string, cells []string) error {
	b := append(l.buf[:0], what...)
	for _, c := range cells {
		b = append(b, "  "...)
		b = append(b, strings.TrimSpace(c)...)
	}
	b = append(b, '\n')
	l.buf = b
	_, err := l.w.Write(b)
	return err
}

// liveFindings adapts a LiveWriter to FindingWriter.
type liveFindings struct{ *LiveWriter }

func (l liveFindings) Write(f rules.Finding) error { return l.WriteFinding(f) }

// Findings returns l as a FindingWriter.
func (l *LiveWriter) Findings() FindingWriter { return liveFindings{l} }

var (
	_ EventWriter   = (*LiveWriter)(nil)
	_ FindingWriter = liveFindings{}
)
