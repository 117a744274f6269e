package report

import "fmt"

// Format names an output format.
type Format string

// The formats. Not every output supports every format: events have no
// GitHub form, and the summary is only shown in [Table], [JSON] and [CSV]
// (JSONL and GitHub print the findings of a scan).
const (
	// Table is for a person on a terminal: titled ASCII tables.
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
)

// Formats lists every format, in the order a help text shows them.
func Formats() []Format { return []Format{Table, JSON, JSONL, CSV, GitHub} }

// ParseFormat returns the Format named s. It returns an error naming the
// valid formats when s is not one of them.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, JSON, JSONL, CSV, GitHub:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want table, json, jsonl, csv or github)", s)
}

// String returns the name of f.
func (f Format) String() string { return string(f) }
