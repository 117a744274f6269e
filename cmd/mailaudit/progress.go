package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/mailaudit/mailaudit/logfile"
)

// progress draws a one-line indicator on a terminal's stderr for long
// scans. It never draws on a pipe or file (cron mail, CI logs).
type progress struct {
	w     io.Writer
	name  string
	size  int64 // bytes of the current file, 0 when unknown (stdin, .gz)
	done  int64
	lines int
	last  time.Time
	shown bool
}

// newProgress returns a progress for stderr, or nil when stderr is not a
// terminal or mode is "never".
func newProgress(stderr io.Writer, mode string) *progress {
	if mode == "never" {
		return nil
	}
	if f, ok := stderr.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		if mode != "always" {
			return nil
		}
	}
	return &progress{w: stderr}
}

// start begins a new file.
func (p *progress) start(in *logfile.Input) {
	p.name, p.size, p.done = displayName(in.Name()), 0, 0
	if f := in.File(); f != nil && !in.Compressed() {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			p.size = fi.Size()
		}
	}
}

// startMany begins reading n logs side by side: no percentage, only the
// bytes read.
func (p *progress) startMany(n int) {
	p.name, p.size, p.done = fmt.Sprintf("%d logs", n), 0, 0
}

// tick counts n lines of size bytes; it redraws at most five times a
// second.
func (p *progress) tick(n int, size int64) {
	p.done += size
	before := p.lines
	p.lines += n
	if before>>14 == p.lines>>14 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	p.shown = true
	if p.size > 0 {
		fmt.Fprintf(p.w, "\r\x1b[Kscanning %s: %d%% (%d MB)", p.name, p.done*100/p.size, p.done>>20)
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[Kscanning %s: %d MB", p.name, p.done>>20)
}

// finish clears the indicator line.
func (p *progress) finish() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
