package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mailaudit/mailaudit/report"
)

// widthFlag is --width, shared by every command that prints tables.
type widthFlag struct {
	width int // -1: not given
}

func (f *widthFlag) register(fs *pflag.FlagSet) {
	f.width = -1
	fs.IntVar(&f.width, "width", -1, "fit tables to `N` columns, 0 for unlimited (default: the terminal's width, else $COLUMNS, else 100)")
	fs.Lookup("width").DefValue = "auto"
}

// page wraps w, the command's stdout (or a buffer around it), into a
// report.Page of the width to fit: --width when given, else the
// terminal's when stdout is one, else $COLUMNS, else 100.
func (f *widthFlag) page(e *env, w io.Writer) (*report.Page, error) {
	if f.width < -1 || f.width > 100000 {
		return nil, usagef("--width must be 0 (unlimited) or a number of columns, not %d", f.width)
	}
	return &report.Page{Writer: w, Width: outputWidth(f.width, e.stdout, os.Getenv)}, nil
}

// outputWidth decides the width of the output: flag when set (>= 0), else
// the terminal's width when stdout is a terminal, else $COLUMNS when it
// is a positive number, else report.DefaultWidth.
func outputWidth(flag int, stdout io.Writer, getenv func(string) string) int {
	if flag >= 0 {
		return flag
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return report.DefaultWidth
}

// parseFormat reads a --format value, in any case, limited to allowed;
// anything else is a usage error naming them.
func parseFormat(s string, allowed ...report.Format) (report.Format, error) {
	f, err := report.ParseFormatOf(s, allowed...)
	if err != nil {
		return "", usagef("--format: %v", err)
	}
	return f, nil
}

// formatHelp is the help of a --format flag taking allowed.
func formatHelp(allowed ...report.Format) string {
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(f)
	}
	return "output `FORMAT`: " + strings.Join(names, ", ") + " (any case)"
}
