package report

import (
	"bytes"
	"io"
	"strings"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/rules"
)

// A LiveWriter prints events and findings for a person watching a live
// log (scan --follow), written at once: one line per event, with the cells
// of the event table separated by two spaces, and one block per finding
// (a header line starting with FINDING, then the message and evidence,
// indented and wrapped to the width of the writer, a [Page]). Tables cannot be
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
	var buf bytes.Buffer
	newFindingBlock(f).appendText(&buf, "FINDING  ", widthOf(l.w))
	_, err := l.w.Write(buf.Bytes())
	return err
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
