package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailaudit/mailaudit/rules"
)

// WriteScan writes what `mailaudit scan` prints, from s and the findings
// the caller's rules produced, in format f:
//
//   - [Table]: titled tables for a person, in this order: cloud
//     intermediaries per user; logins per user and address (own devices
//     and other networks; the intermediary pairs are only in the first
//     table); failures per address (the first 50); malformed lines (the
//     first 20); findings; totals;
//
//   - [JSON]: one object {"summary": {...}, "findings": [...]}; findings
//     are objects as AppendFinding writes them, in the order given; the
//     summary holds every row, not only those a table shows, with these
//     keys, always all present, in this order (unknown strings and times
//     are null, as in the event record; logins includes the intermediary
//     pairs; origin as in the event record):
//
//     {"intermediaries": [{"user", "provider", "product", "count", "first",
//     "last", "addresses", "address_count", "countries",
//     "asns": [{"asn", "org"}]}],
//     "logins": [{"user", "rip", "count", "refused", "first", "last",
//     "services", "tls", "origin"}],
//     "failures": [{"rip", "count", "events", "users", "user_examples",
//     "first", "last", "services", "origin"}],
//     "malformed": {"total", "lines": [{"file", "line", "program", "reason"}]},
//     "totals": {"lines", "long_lines_skipped", "files", "input_errors",
//     "malformed", "events": {"login", "sasl", "auth", "other":
//     {"success", "failure", "aborted", "other"}}}}
//
//   - [JSONL] and [GitHub]: the findings only, as WriteFindings;
//
//   - [CSV]: one CSV table: the logins per user and address,
//     intermediaries included, with the columns user, rip, count, refused,
//     first, last, services, tls, the origin_* columns and as_org; the
//     findings are not in it.
func WriteScan(w io.Writer, f Format, s *Summary, findings []rules.Finding) error {
	switch f {
	case Table:
		return writeScanTable(w, s, findings)
	case JSON:
		return writeScanJSON(w, s, findings)
	case JSONL, GitHub:
		return WriteFindings(w, f, findings)
	case CSV:
		return writeLoginsCSV(w, s)
	}
	return fmt.Errorf("unknown format %q (want table, json, jsonl, csv or github)", string(f))
}

func writeScanTable(w io.Writer, s *Summary, findings []rules.Finding) error {
	for _, section := range []func(io.Writer, *Summary) error{
		writeIntermediariesTable, writeLoginsTable, writeFailuresTable, writeMalformedTable,
	} {
		if err := section(w, s); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	if err := writeFindingsTable(w, findings); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return writeTotalsTable(w, s)
}

// none writes the placeholder of an empty section.
func none(w io.Writer) error {
	_, err := io.WriteString(w, "(none)\n")
	return err
}

func writeIntermediariesTable(w io.Writer, s *Summary) error {
	rows := s.Intermediaries()
	if err := writeTitle(w, "Cloud intermediaries: mailboxes accessed through a cloud service holding the user's credentials (not the user's own device)"); err != nil {
		return err
	}
	if len(rows) == 0 {
		return none(w)
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		addrs := capList(r.Addresses, AddressExampleLimit)
		if r.AddressCount > len(r.Addresses) {
			addrs += fmt.Sprintf(" (+%d)", r.AddressCount-len(r.Addresses))
		}
		asns := make([]string, len(r.ASNs))
		for i, a := range r.ASNs {
			asns[i] = asnCell(a, r.ASOrgs[i])
		}
		out = append(out, []string{
			tableUser(r.User, r.HasUser), dash(providerProduct(r.Provider, r.Product)),
			strconv.FormatInt(r.Count, 10), tableTime(r.First), tableTime(r.Last), dash(addrs),
			dash(capList(r.Countries, 5)), dash(strings.Join(asns, ", ")),
		})
	}
	return renderTable(w, []string{"user", "intermediary", "logins", "first", "last", "addresses", "country", "asn"}, out, []int{2})
}

func writeLoginsTable(w io.Writer, s *Summary) error {
	if err := writeTitle(w, "Logins per user and address (own devices and other networks; intermediaries are listed above)"); err != nil {
		return err
	}
	var out [][]string
	for _, l := range s.Logins() {
		if l.Origin.Class == "intermediary" {
			continue
		}
		count := strconv.FormatInt(l.Count, 10)
		if l.Refused > 0 {
			count += fmt.Sprintf(" (%d refused)", l.Refused)
		}
		out = append(out, []string{
			tableUser(l.User, l.HasUser), dash(Sanitize(l.RemoteIP)), count, tableTime(l.First), tableTime(l.Last),
			dash(strings.Join(l.Services, ",")), l.TLS, originCell(l.Origin), asnCell(l.Origin.ASN, l.Origin.ASOrg),
			dash(Sanitize(l.Origin.Country)),
		})
	}
	if len(out) == 0 {
		return none(w)
	}
	return renderTable(w, []string{"user", "address", "logins", "first", "last", "services", "tls", "origin", "asn", "country"}, out, []int{2})
}

func writeFailuresTable(w io.Writer, s *Summary) error {
	rows := s.Failures()
	title := fmt.Sprintf("Failed logins per address (%d addresses)", len(rows))
	if len(rows) > tableFailureLimit {
		title = fmt.Sprintf("Failed logins per address (top %d of %d addresses; all are in --format json)", tableFailureLimit, len(rows))
	}
	if err := writeTitle(w, title); err != nil {
		return err
	}
	if len(rows) == 0 {
		return none(w)
	}
	rows = rows[:min(len(rows), tableFailureLimit)]
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		ex := make([]string, len(r.UserExamples))
		for i, u := range r.UserExamples {
			ex[i] = clip(tableUser(u, true), exampleWidth)
		}
		examples := strings.Join(ex, " ")
		if r.Users > len(ex) {
			examples += fmt.Sprintf(" (+%d)", r.Users-len(ex))
		}
		out = append(out, []string{
			dash(Sanitize(r.RemoteIP)), strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.Events, 10),
			strconv.Itoa(r.Users), dash(examples), tableTime(r.First), tableTime(r.Last),
			dash(strings.Join(r.Services, ",")), originCell(r.Origin), asnCell(r.Origin.ASN, r.Origin.ASOrg),
			dash(Sanitize(r.Origin.Country)),
		})
	}
	return renderTable(w, []string{"address", "failures", "events", "users", "user examples", "first", "last", "services", "origin", "asn", "country"}, out, []int{1, 2, 3})
}

func writeMalformedTable(w io.Writer, s *Summary) error {
	rows, total := s.Malformed()
	title := fmt.Sprintf("Malformed lines (%d)", total)
	if int64(len(rows)) > tableMalformedLimit || int64(len(rows)) < total {
		title = fmt.Sprintf("Malformed lines (first %d of %d)", min(len(rows), tableMalformedLimit), total)
	}
	if err := writeTitle(w, title); err != nil {
		return err
	}
	if len(rows) == 0 {
		return none(w)
	}
	rows = rows[:min(len(rows), tableMalformedLimit)]
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, []string{where(r.File, r.Line), dash(clip(Sanitize(r.Program), exampleWidth)), dash(clip(Sanitize(r.Reason), reasonWidth))})
	}
	return renderTable(w, []string{"where", "program", "reason"}, out, nil)
}

func writeTotalsTable(w io.Writer, s *Summary) error {
	t := s.Totals()
	if err := writeTitle(w, "Totals"); err != nil {
		return err
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	rc := func(r ResultCounts) string {
		s := fmt.Sprintf("%d (success %d, failure %d, aborted %d", r.Total(), r.Success, r.Failure, r.Aborted)
		if r.Other > 0 {
			s += fmt.Sprintf(", other %d", r.Other)
		}
		return s + ")"
	}
	rows := [][]string{
		{"lines read", i64(t.Lines)},
		{"long lines skipped", i64(t.LongLines)},
		{"files read", strconv.Itoa(t.Files)},
		{"input errors", strconv.Itoa(t.InputErrors)},
		{"malformed lines", i64(t.Malformed)},
		{"login events (dovecot)", rc(t.Logins)},
		{"sasl events (postfix)", rc(t.SASL)},
		{"auth-process details (not counted as logins)", rc(t.AuthDetails)},
	}
	if t.Other.Total() > 0 {
		rows = append(rows, []string{"events of unknown kind", rc(t.Other)})
	}
	return renderTable(w, []string{"what", "count"}, rows, nil)
}

// loginCSVColumns is the header of the CSV form of a scan.
var loginCSVColumns = append(append([]string{"user", "rip", "count", "refused", "first", "last", "services", "tls"},
	originCSVColumns...), "as_org")

func writeLoginsCSV(w io.Writer, s *Summary) error {
	return writeCSV(w, loginCSVColumns, func(yield func([]string) bool) {
		for _, l := range s.Logins() {
			if !yield(withOriginCSV([]string{csvCell(l.User), csvCell(l.RemoteIP), strconv.FormatInt(l.Count, 10),
				strconv.FormatInt(l.Refused, 10), csvTime(l.First), csvTime(l.Last),
				strings.Join(l.Services, " "), l.TLS}, l.Origin)) {
				return
			}
		}
	})
}

func writeScanJSON(w io.Writer, s *Summary, findings []rules.Finding) error {
	bw := &bufWriter{w: w, buf: make([]byte, 0, flushAt+4096)}
	bw.buf = append(bw.buf, `{"summary": `...)
	appendSummary(bw, s)
	bw.buf = append(bw.buf, ",\n\"findings\": ["...)
	for i, f := range findings {
		if i > 0 {
			bw.buf = append(bw.buf, ',')
		}
		bw.buf = append(bw.buf, '\n')
		bw.buf = AppendFinding(bw.buf, f)
		bw.maybeFlush()
	}
	if len(findings) > 0 {
		bw.buf = append(bw.buf, '\n')
	}
	bw.buf = append(bw.buf, "]}\n"...)
	return bw.flush()
}

// bufWriter is an append buffer flushed to w in large pieces; the first
// error sticks.
type bufWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *bufWriter) maybeFlush() {
	if len(b.buf) >= flushAt {
		b.flush()
	}
}

func (b *bufWriter) flush() error {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
	return b.err
}
