package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mailaudit/mailaudit/rules"
)

// A finding for a person is a block, not a table row: a header line
// (severity, rule, user, address or "N addresses", first–last, count) and
// below it, indented, the whole message, the addresses, the origin, any
// further field of the finding, and the evidence, wrapped to the page
// width. Nothing is cut, except that a list (addresses, evidence, the
// lines of a list of objects such as campaign members) shows at most
// blockListLimit values and says how many more --format json has.

// blockListLimit is the most values a finding block shows of one list:
// the rules' default max_addresses, so that only a campaign's member list
// (every member, by contract) is ever cut.
const blockListLimit = 100

// blockList joins up to blockListLimit sanitized values with spaces and
// says how many more there are: "a b c (+4 more, all in --format json)".
func blockList(vals []string) string {
	if len(vals) <= blockListLimit {
		return capList(vals, len(vals))
	}
	return capList(vals[:blockListLimit], blockListLimit) + fmt.Sprintf(" (+%d more, all in --format json)", len(vals)-blockListLimit)
}

// jsonField is one key of a JSON object and its raw value, in order.
type jsonField struct {
	key string
	raw json.RawMessage
}

// objectFields returns the keys of the JSON object b in their order.
func objectFields(b []byte) ([]jsonField, error) {
	if out, ok := compactFields(b); ok {
		return out, nil
	}
	return decodeFields(b)
}

// compactFields is objectFields for the compact JSON this package writes,
// without a decoder: keys without escapes, values as they are. It reports
// false for anything else (whitespace, an escaped key, invalid JSON),
// which decodeFields reads.
func compactFields(b []byte) ([]jsonField, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	out := make([]jsonField, 0, 16)
	i := 1
	if b[i] == '}' {
		return out, i == len(b)-1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return nil, false
		}
		key := b[i+1 : i+1+j]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return nil, false
		}
		i += j + 2
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i++
		end, ok := skipValue(b, i)
		if !ok {
			return nil, false
		}
		out = append(out, jsonField{string(key), json.RawMessage(b[i:end])})
		i = end
		switch {
		case i == len(b)-1 && b[i] == '}':
			return out, true
		case i < len(b) && b[i] == ',':
			i++
		default:
			return nil, false
		}
	}
}

// skipValue returns the end of the compact JSON value starting at b[i]:
// a string, an object or array (whatever they hold), or a literal or
// number (up to the next ',', '}' or ']'). It reports false for a value
// cut short or starting with whitespace; json.Valid checks the rest.
func skipValue(b []byte, i int) (int, bool) {
	start := i
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, false
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, i > start && json.Valid(b[start:i])
			}
			depth--
		case ',':
			if depth == 0 {
				return i, i > start && json.Valid(b[start:i])
			}
		case ' ', '\t', '\n', '\r':
			return 0, false
		}
		i++
	}
	return 0, false
}

// decodeFields is objectFields with a JSON decoder.
func decodeFields(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("report: not a JSON object: %.40q", b)
	}
	var out []jsonField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, jsonField{k, raw})
	}
	return out, nil
}

// findingFields returns the keys of the JSON form of a finding
// (AppendFinding) in order, with their values: the CSV and block forms are
// made from it, so a field the rules add shows everywhere.
func findingFields(f rules.Finding) []jsonField {
	fields, err := objectFields(AppendFinding(nil, f))
	if err != nil {
		// AppendFinding writes valid JSON; this is a bug.
		panic(err)
	}
	return fields
}

// blockKnown are the finding keys the block shows in its own way.
var blockKnown = map[string]bool{
	"rule": true, "severity": true, "user": true, "rip": true, "addresses": true, "origin": true,
	"first": true, "last": true, "count": true, "evidence": true, "message": true,
}

// textValue renders a JSON value for a person, sanitized: strings as
// they are, lists joined by spaces, objects as compact JSON, null as "".
func textValue(raw json.RawMessage) string { return Sanitize(rawText(raw)) }

// rawText is textValue before sanitizing (for csvCell, which sanitizes).
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) == nil {
			parts := make([]string, 0, len(items))
			for _, it := range items {
				if s := rawText(it); s != "" {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, " ")
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

// appendFieldLines adds the lines of one further field of a finding: a
// value on one line; an object one line per key ("campaign attempts:
// 120"); a list of objects one line per element.
func appendFieldLines(lines []blockLine, label string, raw json.RawMessage) []blockLine {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		fields, err := objectFields(raw)
		if err != nil {
			break
		}
		for _, fd := range fields {
			lines = appendFieldLines(lines, label+" "+Sanitize(strings.ReplaceAll(fd.key, "_", " ")), fd.raw)
		}
		return lines
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		// A list of objects, or of phrases: one line each.
		if json.Unmarshal(raw, &items) == nil && len(items) > 0 &&
			(bytes.HasPrefix(bytes.TrimSpace(items[0]), []byte("{")) || strings.Contains(rawText(raw), "  ") || slices.ContainsFunc(items, func(it json.RawMessage) bool { return strings.Contains(rawText(it), " ") })) {
			for _, it := range items[:min(len(items), blockListLimit)] {
				lines = append(lines, blockLine{label, objectPhrase(it)})
			}
			if more := len(items) - blockListLimit; more > 0 {
				lines = append(lines, blockLine{label, fmt.Sprintf("%d more (all in --format json)", more)})
			}
			return lines
		}
	}
	if s := textValue(raw); s != "" {
		lines = append(lines, blockLine{label, s})
	}
	return lines
}

// objectPhrase is one item of a list for a person: an object as its first
// value and then "key value" for the others that are not empty
// ("203.0.113.1, attempts 3, names 2, first …"), anything else as
// textValue.
func objectPhrase(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return textValue(raw)
	}
	fields, err := objectFields(raw)
	if err != nil {
		return textValue(raw)
	}
	parts := make([]string, 0, len(fields))
	for i, fd := range fields {
		v := textValue(fd.raw)
		switch {
		case v == "":
		case i == 0:
			parts = append(parts, v)
		default:
			parts = append(parts, Sanitize(strings.ReplaceAll(fd.key, "_", " "))+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

// findingBlock is a finding made ready to print: a header and labelled
// lines, sanitized.
type findingBlock struct {
	severity string
	header   string
	lines    []blockLine
}

type blockLine struct{ label, text string }

func newFindingBlock(f rules.Finding) findingBlock {
	sev := f.Severity.String()
	if sev == "" {
		sev = "unknown"
	}
	parts := []string{strings.ToUpper(sev), Sanitize(f.Rule)}
	if f.HasUser && f.User != "" {
		parts = append(parts, "user "+Sanitize(f.User))
	}
	switch {
	case f.RemoteIP != "":
		parts = append(parts, "from "+Sanitize(f.RemoteIP))
	case len(f.Addresses) == 1:
		parts = append(parts, "from "+Sanitize(f.Addresses[0]))
	case len(f.Addresses) > 1:
		parts = append(parts, fmt.Sprintf("%d addresses", len(f.Addresses)))
	}
	if s := timeSpan(f); s != "" {
		parts = append(parts, s)
	}
	parts = append(parts, fmt.Sprintf("count %d", f.Count))
	b := findingBlock{severity: sev, header: strings.Join(parts, "  ")}
	if f.Message != "" {
		b.lines = append(b.lines, blockLine{"", Sanitize(f.Message)})
	}
	if f.RemoteIP == "" && len(f.Addresses) > 1 {
		b.lines = append(b.lines, blockLine{"addresses", blockList(f.Addresses)})
	}
	if !f.Origin.IsZero() {
		o := originCell(f.Origin)
		if a := asnCell(f.Origin.ASN, f.Origin.ASOrg); a != "-" {
			o += ", " + a
		}
		if f.Origin.Country != "" {
			o += ", " + Sanitize(f.Origin.Country)
		}
		b.lines = append(b.lines, blockLine{"origin", o})
	}
	for _, fd := range findingFields(f) {
		if !blockKnown[fd.key] {
			b.lines = appendFieldLines(b.lines, Sanitize(strings.ReplaceAll(fd.key, "_", " ")), fd.raw)
		}
	}
	if len(f.Evidence) > 0 {
		b.lines = append(b.lines, blockLine{"evidence", blockList(f.Evidence)})
	}
	return b
}

// timeSpan is "first – last" of a finding, the last without its date when
// it is the same day, "" when both are unknown.
func timeSpan(f rules.Finding) string {
	switch {
	case f.First.IsZero() && f.Last.IsZero():
		return ""
	case f.Last.IsZero() || f.Last.Equal(f.First):
		return tableTime(f.First)
	case f.First.IsZero():
		return "until " + tableTime(f.Last)
	}
	last := f.Last.In(f.First.Location())
	if y1, m1, d1 := f.First.Date(); true {
		if y2, m2, d2 := last.Date(); y1 == y2 && m1 == m2 && d1 == d2 {
			return tableTime(f.First) + " – " + last.Format("15:04:05")
		}
	}
	return tableTime(f.First) + " – " + tableTime(last)
}

// appendText appends the block to buf for a terminal, wrapped to width (0:
// unlimited), the header after prefix.
func (b findingBlock) appendText(buf *bytes.Buffer, prefix string, width int) {
	const indent = "    "
	inner := 0
	if width > 0 {
		inner = max(width-len(indent), minColumn)
	}
	for i, l := range wrapText(prefix+b.header, width) {
		if i > 0 {
			buf.WriteString(indent)
		}
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	for _, l := range b.lines {
		text := l.text
		if l.label != "" {
			text = l.label + ": " + text
		}
		for _, s := range wrapText(text, inner) {
			buf.WriteString(indent)
			buf.WriteString(s)
			buf.WriteByte('\n')
		}
	}
}

// appendHTML appends the block as HTML; every value is escaped.
func (b findingBlock) appendHTML(buf *bytes.Buffer) {
	fmt.Fprintf(buf, "<div class=\"finding %s\">\n<h3>%s</h3>\n", html.EscapeString(b.severity), html.EscapeString(b.header))
	for _, l := range b.lines {
		buf.WriteString("<p>")
		if l.label != "" {
			buf.WriteString("<b>")
			buf.WriteString(html.EscapeString(l.label))
			buf.WriteString(":</b> ")
		}
		buf.WriteString(html.EscapeString(l.text))
		buf.WriteString("</p>\n")
	}
	buf.WriteString("</div>\n")
}

// sortFindings returns findings most severe first, then by time, rule,
// user and address.
func sortFindings(findings []rules.Finding) []rules.Finding {
	sorted := slices.Clone(findings)
	slices.SortStableFunc(sorted, func(a, b rules.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			a.First.Compare(b.First),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.User, b.User),
			strings.Compare(a.RemoteIP, b.RemoteIP),
		)
	})
	return sorted
}

// writeFindingBlocks writes the titled findings, one block each, sorted
// (most severe first), separated by blank lines.
func writeFindingBlocks(w io.Writer, findings []rules.Finding) error {
	if err := writeTitle(w, fmt.Sprintf("Findings (%d)", len(findings))); err != nil {
		return err
	}
	if len(findings) == 0 {
		return none(w)
	}
	var buf bytes.Buffer
	if h, ok := w.(*htmlPage); ok {
		for _, f := range sortFindings(findings) {
			newFindingBlock(f).appendHTML(&h.buf)
		}
		return nil
	}
	width := widthOf(w)
	for i, f := range sortFindings(findings) {
		if i > 0 {
			buf.WriteByte('\n')
		}
		newFindingBlock(f).appendText(&buf, "", width)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
