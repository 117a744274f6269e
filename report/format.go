package report

import (
	"fmt"
	"strings"
)

// Format names an output format.
type Format string

// The formats. Not every output supports every format: events have no
// GitHub or HTML form, GitHub is for findings only, and HTML is for a
// scan and the reports.
const (
	// Table is for a person on a terminal: titled ASCII tables fitted to
	// the width (see [Page]), findings as blocks.
	Table Format = "table"
	// JSON is one JSON document (an object, or an array of events).
	JSON Format = "json"
	// JSONL is one JSON object per line.
	JSONL Format = "jsonl"
	// CSV is RFC 4180 CSV with a header row, hardened against formula
	// injection.
	CSV Format = "csv"
	// GitHub is GitHub Actions workflow commands (::error …::message), for
	// findings only.
	GitHub Format = "github"
	// HTML is one self-contained HTML page (inline CSS and SVG, no script
	// and nothing loaded from elsewhere), for a scan and the reports.
	HTML Format = "html"
)

// Formats lists every format, in the order a help text shows them.
func Formats() []Format { return []Format{Table, JSON, JSONL, CSV, GitHub, HTML} }

// ParseFormat returns the Format named s, in any case. It returns an error
// naming the valid formats when s is not one of them.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case Table, JSON, JSONL, CSV, GitHub, HTML:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, formatList(Formats()))
}

// ParseFormatOf is ParseFormat limited to the formats in allowed: the
// error names those.
func ParseFormatOf(s string, allowed ...Format) (Format, error) {
	f, err := ParseFormat(s)
	if err == nil {
		for _, a := range allowed {
			if a == f {
				return f, nil
			}
		}
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, formatList(allowed))
}

// formatList names formats for a person: "table, json or csv".
func formatList(fs []Format) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// String returns the name of f.
func (f Format) String() string { return string(f) }
