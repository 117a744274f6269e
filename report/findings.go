package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailaudit/mailaudit/rules"
)

// A FindingWriter writes findings one at a time, for follow mode. Close
// flushes and finishes the document (the table, the JSON object) but never
// closes the underlying io.Writer. After an error every later call returns
// that error. A FindingWriter is not safe for concurrent use.
type FindingWriter interface {
	Write(f rules.Finding) error
	Close() error
}

// NewFindingWriter returns a FindingWriter writing to w in format f:
//   - [JSONL]: one finding object per line, written at once (nothing at all
//     when there are no findings);
//   - [JSON]: the object {"findings": [...]}, streamed;
//   - [CSV]: a header row, then one row per finding; addresses and evidence
//     are joined by spaces, the origin is flattened into origin_* columns;
//   - [GitHub]: one GitHub Actions annotation per line, written at once;
//   - [Table]: one block per finding (see writeFindingBlocks), sorted
//     (severity, then first time, rule, user, address), written at Close
//     and fitted to the width of w (a [Page]);
//   - [HTML]: the same blocks as one self-contained HTML page, at Close.
func NewFindingWriter(w io.Writer, f Format) (FindingWriter, error) {
	switch f {
	case JSONL, GitHub:
		return &lineFindingWriter{w: w, github: f == GitHub}, nil
	case JSON:
		return &jsonFindingWriter{w: w}, nil
	case CSV:
		return &csvFindingWriter{cw: csv.NewWriter(w)}, nil
	case Table:
		return &tableFindingWriter{w: w}, nil
	case HTML:
		return &tableFindingWriter{w: w, html: true}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", string(f), formatList(Formats()))
}

// WriteFindings writes findings to w in format f, as a FindingWriter does.
func WriteFindings(w io.Writer, f Format, findings []rules.Finding) error {
	fw, err := NewFindingWriter(w, f)
	if err != nil {
		return err
	}
	for _, fi := range findings {
		if err := fw.Write(fi); err != nil {
			return err
		}
	}
	return fw.Close()
}

// AppendFinding appends the JSON object of f to b, without a newline. Keys,
// always all present and in this order: rule, severity, user (null when
// !HasUser), rip (null when empty), addresses (the list; [] when rip is
// empty and there are none; null when rip is set and there are none),
// origin (null when not classified), first, last (RFC 3339, null when
// zero), count, evidence (list, [] when none), message. Added keys, only
// on the findings they detail: campaign (spray-campaign), compromise
// (account-compromise), baseline (new-device).
func AppendFinding(b []byte, f rules.Finding) []byte {
	b = append(b, `{"rule":`...)
	b = appendString(b, f.Rule)
	b = append(b, `,"severity":`...)
	b = appendStringOrNull(b, f.Severity.String())
	b = append(b, `,"user":`...)
	if f.HasUser {
		b = appendString(b, f.User)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"rip":`...)
	b = appendStringOrNull(b, f.RemoteIP)
	b = append(b, `,"addresses":`...)
	if len(f.Addresses) == 0 && f.RemoteIP != "" {
		b = append(b, "null"...)
	} else {
		b = appendStrings(b, f.Addresses)
	}
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, f.Origin)
	b = append(b, `,"first":`...)
	b = appendTime(b, f.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, f.Last)
	b = append(b, `,"count":`...)
	b = appendInt(b, int64(f.Count))
	b = append(b, `,"evidence":`...)
	b = appendStrings(b, f.Evidence)
	b = append(b, `,"message":`...)
	b = appendString(b, f.Message)
	if c := f.Campaign; c != nil {
		b = append(b, `,"campaign":{"id":`...)
		b = appendString(b, c.ID)
		b = append(b, `,"attempts":`...)
		b = appendInt(b, int64(c.Attempts))
		b = append(b, `,"names":`...)
		b = appendInt(b, int64(c.Names))
		b = append(b, `,"accounts":`...)
		b = appendInt(b, int64(c.Accounts))
		b = append(b, `,"unnamed":`...)
		b = appendInt(b, int64(c.Unnamed))
		b = append(b, `,"services":`...)
		b = appendStrings(b, c.Services)
		b = append(b, `,"not_tracked":`...)
		b = appendInt(b, int64(c.NotTracked))
		b = append(b, `,"members":[`...)
		for i, m := range c.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"address":`...)
			b = appendString(b, m.Address)
			b = append(b, `,"attempts":`...)
			b = appendInt(b, int64(m.Attempts))
			b = append(b, `,"names":`...)
			b = appendInt(b, int64(m.Names))
			b = append(b, `,"succeeded":`...)
			b = appendStrings(b, m.Succeeded)
			b = append(b, `,"first":`...)
			b = appendTime(b, m.First)
			b = append(b, `,"last":`...)
			b = appendTime(b, m.Last)
			b = append(b, `,"evidence":`...)
			b = appendStringOrNull(b, m.Evidence)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	if c := f.Compromise; c != nil {
		b = append(b, `,"compromise":{"accused_by":`...)
		b = appendString(b, c.AccusedBy)
		b = append(b, `,"campaign":`...)
		b = appendStringOrNull(b, c.Campaign)
		b = append(b, `,"failures":`...)
		b = appendInt(b, int64(c.Failures))
		b = append(b, `,"other_accounts":`...)
		b = appendInt(b, int64(c.OtherAccounts))
		b = append(b, `,"success":`...)
		b = appendStringOrNull(b, c.Success)
		b = append(b, `,"submissions":`...)
		b = appendInt(b, int64(c.Submissions))
		b = append(b, `,"logins":`...)
		b = appendInt(b, int64(c.Logins))
		b = append(b, `,"actions":`...)
		b = appendStrings(b, c.Actions)
		b = append(b, '}')
	}
	if l := f.Learning; l != nil {
		b = append(b, `,"baseline":{"days":`...)
		b = appendInt(b, int64(l.Days))
		b = append(b, `,"logins":`...)
		b = appendInt(b, l.Logins)
		b = append(b, '}')
	}
	return append(b, '}')
}

// AppendGitHub appends the GitHub Actions annotation for f, with its
// newline: "::error file=F,line=L,title=RULE::message". Critical and high
// findings are errors, medium ones warnings, the rest notices. file and
// line come from the first evidence entry ("file:line"); they are left out
// when there is none. The message is f.Message followed by the user and
// address concerned. Values are sanitized (no ANSI escapes reach the
// Actions log) and escaped as the Actions toolkit does: % \r \n in the
// message, and also : and , in property values.
func AppendGitHub(b []byte, f rules.Finding) []byte {
	level := "notice"
	switch f.Severity {
	case rules.Critical, rules.High:
		level = "error"
	case rules.Medium:
		level = "warning"
	}
	b = append(b, "::"...)
	b = append(b, level...)
	sep := byte(' ')
	if len(f.Evidence) > 0 {
		file, line := splitEvidence(f.Evidence[0])
		if file != "" {
			b = append(b, sep)
			sep = ','
			b = append(b, "file="...)
			b = appendGitHubProperty(b, sanitizeAnnotation(file))
			if line != "" {
				b = append(b, ",line="...)
				b = append(b, line...)
			}
		}
	}
	b = append(b, sep)
	b = append(b, "title="...)
	b = appendGitHubProperty(b, sanitizeAnnotation(f.Rule))
	b = append(b, "::"...)
	b = appendGitHubData(b, sanitizeAnnotation(githubMessage(f)))
	return append(b, '\n')
}

// githubMessage is the text of an annotation.
func githubMessage(f rules.Finding) string {
	var s strings.Builder
	s.WriteString(f.Message)
	var ctx []string
	if f.HasUser {
		ctx = append(ctx, "user "+strconv.Quote(f.User))
	}
	if f.RemoteIP != "" {
		ctx = append(ctx, "address "+f.RemoteIP)
	} else if len(f.Addresses) > 0 {
		ctx = append(ctx, "addresses "+strings.Join(f.Addresses, " "))
	}
	if len(ctx) > 0 {
		s.WriteString(" (")
		s.WriteString(strings.Join(ctx, ", "))
		s.WriteString(")")
	}
	return s.String()
}

// splitEvidence splits "file:line" at its last colon; line is "" when what
// follows is not a positive number (then file is the whole entry).
func splitEvidence(e string) (file, line string) {
	i := strings.LastIndexByte(e, ':')
	if i < 0 {
		return e, ""
	}
	n, err := strconv.Atoi(e[i+1:])
	if err != nil || n <= 0 {
		return e, ""
	}
	return e[:i], strconv.Itoa(n)
}

// appendGitHubData escapes an annotation message: % \r \n.
func appendGitHubData(b []byte, s string) []byte { return appendGitHubEscaped(b, s, false) }

// appendGitHubProperty escapes an annotation property value: % \r \n : ,.
func appendGitHubProperty(b []byte, s string) []byte { return appendGitHubEscaped(b, s, true) }

func appendGitHubEscaped(b []byte, s string, property bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			b = append(b, "%25"...)
		case c == '\r':
			b = append(b, "%0D"...)
		case c == '\n':
			b = append(b, "%0A"...)
		case property && c == ':':
			b = append(b, "%3A"...)
		case property && c == ',':
			b = append(b, "%2C"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// lineFindingWriter writes JSONL or GitHub lines, one Write per finding.
type lineFindingWriter struct {
	w      io.Writer
	github bool
	buf    []byte
	closed bool
	err    error
}

func (l *lineFindingWriter) Write(f rules.Finding) error {
	if l.err != nil {
		return l.err
	}
	if l.closed {
		return errClosed
	}
	if l.github {
		l.buf = AppendGitHub(l.buf[:0], f)
	} else {
		l.buf = append(AppendFinding(l.buf[:0], f), '\n')
	}
	if _, err := l.w.Write(l.buf); err != nil {
		l.err = err
	}
	return l.err
}

func (l *lineFindingWriter) Close() error {
	l.closed = true
	return l.err
}

// jsonFindingWriter streams {"findings": [...]}.
type jsonFindingWriter struct {
	w      io.Writer
	buf    []byte
	n      int
	closed bool
	err    error
}

func (j *jsonFindingWriter) Write(f rules.Finding) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errClosed
	}
	if j.n == 0 {
		j.buf = append(j.buf[:0], "{\"findings\": [\n"...)
	} else {
		j.buf = append(j.buf[:0], ",\n"...)
	}
	j.n++
	j.buf = AppendFinding(j.buf, f)
	if _, err := j.w.Write(j.buf); err != nil {
		j.err = err
	}
	return j.err
}

func (j *jsonFindingWriter) Close() error {
	if j.err != nil || j.closed {
		return j.err
	}
	j.closed = true
	end := "\n]}\n"
	if j.n == 0 {
		end = "{\"findings\": []}\n"
	}
	_, j.err = io.WriteString(j.w, end)
	return j.err
}

// findingCSVColumns is the header of the CSV findings output: the keys
// every finding's JSON form has, in order, with the origin flattened into
// origin_* columns, then details: the keys only some findings have
// (campaign, compromise, baseline, …) as one JSON object, empty when none.
var findingCSVColumns = func() []string {
	var cols []string
	for _, fd := range findingFields(rules.Finding{}) {
		if fd.key == "origin" {
			cols = append(cols, originCSVColumns...)
			continue
		}
		cols = append(cols, fd.key)
	}
	return append(cols, "details")
}()

// findingBaseKeys are the keys every finding has.
var findingBaseKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, fd := range findingFields(rules.Finding{}) {
		m[fd.key] = true
	}
	return m
}()

// findingCSVRow is f as the cells of findingCSVColumns: the JSON values,
// lists joined by spaces, null as an empty cell.
func findingCSVRow(f rules.Finding) []string {
	var row []string
	var details []byte
	for _, fd := range findingFields(f) {
		switch {
		case !findingBaseKeys[fd.key]:
			if details == nil {
				details = append(details, '{')
			} else {
				details = append(details, ',')
			}
			details = appendString(details, fd.key)
			details = append(details, ':')
			var c bytes.Buffer
			_ = json.Compact(&c, fd.raw)
			details = append(details, c.Bytes()...)
		case fd.key == "origin":
			row = append(row, originCSV(f.Origin)...)
		default:
			row = append(row, csvCell(rawText(fd.raw)))
		}
	}
	if details != nil {
		details = append(details, '}')
	}
	return append(row, csvCell(string(details)))
}

// csvFindingWriter writes one CSV row per finding.
type csvFindingWriter struct {
	cw     *csv.Writer
	header bool
	closed bool
	err    error
}

func (c *csvFindingWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.cw.Write(findingCSVColumns)
}

func (c *csvFindingWriter) Write(f rules.Finding) error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return errClosed
	}
	if err := c.writeHeader(); err != nil {
		c.err = err
		return err
	}
	row := findingCSVRow(f)
	if err := c.cw.Write(row); err != nil {
		c.err = err
		return err
	}
	// Follow mode: a finding is only useful when it is out.
	c.cw.Flush()
	c.err = c.cw.Error()
	return c.err
}

func (c *csvFindingWriter) Close() error {
	if c.err != nil || c.closed {
		return c.err
	}
	c.closed = true
	if err := c.writeHeader(); err != nil {
		c.err = err
		return err
	}
	c.cw.Flush()
	c.err = c.cw.Error()
	return c.err
}

// tableFindingWriter keeps findings and renders them sorted at Close.
type tableFindingWriter struct {
	w        io.Writer
	html     bool // a whole HTML page
	findings []rules.Finding
	closed   bool
	err      error
}

func (t *tableFindingWriter) Write(f rules.Finding) error {
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return errClosed
	}
	t.findings = append(t.findings, f)
	return nil
}

func (t *tableFindingWriter) Close() error {
	if t.err != nil || t.closed {
		return t.err
	}
	t.closed = true
	if t.html {
		t.err = writeHTMLDoc(t.w, "Findings", func(p *htmlPage) error { return writeFindingBlocks(p, t.findings) })
	} else {
		t.err = writeFindingBlocks(t.w, t.findings)
	}
	t.findings = nil
	return t.err
}

// capList joins up to max sanitized values with spaces, and says how many
// more there are: "a b c (+4)".
func capList(vals []string, max int) string {
	n := min(len(vals), max)
	parts := make([]string, 0, n+1)
	for _, v := range vals[:n] {
		parts = append(parts, Sanitize(v))
	}
	if len(vals) > n {
		parts = append(parts, fmt.Sprintf("(+%d)", len(vals)-n))
	}
	return strings.Join(parts, " ")
}
