// Package report renders everything mailaudit prints: event records,
// findings and the scan summary, as tables for a person, JSON, JSON lines,
// CSV and GitHub Actions annotations.
//
// Log data is hostile: user names and reasons are chosen by whoever connects
// to the mail server. Every log-derived string is therefore passed through
// [Sanitize] before it reaches a table, a CSV cell or an annotation, and the
// JSON encoder escapes every control character (ESC becomes \u001b) and
// replaces invalid UTF-8 with U+FFFD, as encoding/json does.
//
// The package does no detection, no I/O beyond the io.Writer it is given,
// and never logs. Nothing in it is safe for concurrent use unless stated.
package report
