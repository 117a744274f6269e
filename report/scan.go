package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/rules"
)

// The tables of a scan, for [WriteScanTable].
const (
	TableFindings       = "findings"
	TableLogins         = "logins"
	TableFailures       = "failures"
	TableIntermediaries = "intermediaries"
	TableMalformed      = "malformed"
	TableSummary        = "summary"
)

// ScanTables lists the tables of a scan, in the order the help shows them.
func ScanTables() []string {
	return []string{TableFindings, TableLogins, TableFailures, TableIntermediaries, TableMalformed, TableSummary}
}

// WriteScan writes what `mailaudit scan` prints, from s and the findings
// the caller's rules produced, in format f:
//
//   - [Table]: for a person, fitted to the width of w (a [Page]): titled
//     tables in this order: cloud intermediaries per user; logins per user
//     and address (own devices and other networks; the intermediary pairs
//     are only in the first table); failed logins and probes per address
//     (the first 50); malformed lines (the first 20); then the findings,
//     one block each (header line, then the whole message and evidence);
//     totals. The two per-user tables show at most the 200 users with the
//     most logins, the logins table at most 20 addresses of a user (the
//     rest summed in one row), a finding block at most 100 values of a
//     list; each title, row or line that leaves some out says how many;
//
//   - [JSON]: one object {"summary": {...}, "findings": [...]}; findings
//     are objects as AppendFinding writes them, in the order given; the
//     summary holds every row, not only those a table shows, with these
//     keys, always all present, in this order (unknown strings and times
//     are null, as in the event record, and so is the user of user=<>;
//     logins includes the intermediary pairs; origin as in the event
//     record):
//
//     {"intermediaries": [{"user", "provider", "product", "count", "first",
//     "last", "addresses", "address_count", "countries",
//     "asns": [{"asn", "org"}]}],
//     "logins": [{"user", "rip", "count", "refused", "first", "last",
//     "services", "tls", "origin"}],
//     "failures": [{"rip", "count", "probes", "events", "users",
//     "user_examples", "first", "last", "services", "origin"}],
//     "malformed": {"total", "lines": [{"file", "line", "program", "reason"}]},
//     "totals": {"lines", "long_lines_skipped", "files", "input_errors",
//     "malformed", "probes", "events": {"login", "sasl", "auth", "other":
//     {"success", "failure", "aborted", "other"}}}}
//
//     count in failures is failed attempts; probes are connections that
//     made no attempt (see [IsProbe]), which are not failures;
//
//   - [JSONL], [CSV] and [GitHub]: the findings, as WriteFindings;
//
//   - [HTML]: one self-contained page (see WriteScanHTML).
//
// WriteScanTable writes one table of the scan instead.
func WriteScan(w io.Writer, f Format, s *Summary, findings []rules.Finding) error {
	switch f {
	case Table:
		return writeScanTable(w, s, findings)
	case JSON:
		return writeScanJSON(w, s, findings)
	case JSONL, GitHub, CSV:
		return WriteFindings(w, f, findings)
	case HTML:
		return WriteScanHTML(w, s, findings)
	}
	return fmt.Errorf("unknown format %q (want %s)", string(f), formatList(Formats()))
}

// WriteScanTable writes one table of a scan, named as in [ScanTables], in
// format f: [Table] (that section alone), [JSONL] (one object per row, the
// keys of the rows of the JSON form; summary is the totals object) or [CSV]
// (the same keys as columns: origin flattened into origin_* columns, the
// event counts of the totals into events_KIND_RESULT columns, lists joined
// by spaces, null as an empty cell). findings is the findings table.
// [JSON] and [HTML] write the whole scan, as WriteScan.
func WriteScanTable(w io.Writer, f Format, table string, s *Summary, findings []rules.Finding) error {
	if !slices.Contains(ScanTables(), table) {
		return fmt.Errorf("unknown table %q (want %s)", table, strings.Join(ScanTables(), ", "))
	}
	switch f {
	case JSON, HTML:
		return WriteScan(w, f, s, findings)
	case GitHub:
		if table != TableFindings {
			return fmt.Errorf("format github shows only the findings, not the %s table", table)
		}
		return WriteFindings(w, f, findings)
	case Table:
		if table == TableFindings {
			return writeFindingBlocks(w, findings)
		}
		return scanSection(table)(w, s)
	case JSONL, CSV:
		if table == TableFindings {
			return WriteFindings(w, f, findings)
		}
		zero, rows := scanRows(table, s)
		if f == CSV {
			return writeJSONRowsCSV(w, zero, rows)
		}
		bw := &bufWriter{w: w, buf: make([]byte, 0, flushAt+4096)}
		for r := range rows {
			bw.buf = append(append(bw.buf, r...), '\n')
			bw.maybeFlush()
		}
		return bw.flush()
	}
	return fmt.Errorf("unknown format %q (want %s)", string(f), formatList(Formats()))
}

// scanSection returns the table writer of a summary table.
func scanSection(table string) func(io.Writer, *Summary) error {
	switch table {
	case TableLogins:
		return writeLoginsTable
	case TableFailures:
		return writeFailuresTable
	case TableIntermediaries:
		return writeIntermediariesTable
	case TableMalformed:
		return writeMalformedTable
	}
	return writeTotalsTable
}

// scanRows returns the JSON rows of a summary table, one at a time (the
// slice is reused: valid until the next), and a row of zero values that
// names its keys.
func scanRows(table string, s *Summary) (zero []byte, rows iter.Seq[[]byte]) {
	var b []byte
	switch table {
	case TableLogins:
		return appendLogin(nil, Login{}), func(yield func([]byte) bool) {
			for l := range s.AllLogins() {
				if b = appendLogin(b[:0], l); !yield(b) {
					return
				}
			}
		}
	case TableFailures:
		return appendFailure(nil, AddressFailures{}), func(yield func([]byte) bool) {
			for r := range s.AllFailures() {
				if b = appendFailure(b[:0], r); !yield(b) {
					return
				}
			}
		}
	case TableIntermediaries:
		return appendIntermediary(nil, Intermediary{}), func(yield func([]byte) bool) {
			for _, r := range s.Intermediaries() {
				if b = appendIntermediary(b[:0], r); !yield(b) {
					return
				}
			}
		}
	case TableMalformed:
		return appendMalformed(nil, Malformed{}), func(yield func([]byte) bool) {
			m, _ := s.Malformed()
			for _, r := range m {
				if b = appendMalformed(b[:0], r); !yield(b) {
					return
				}
			}
		}
	}
	return appendTotals(nil, Totals{}), func(yield func([]byte) bool) { yield(appendTotals(nil, s.Totals())) }
}

// flattenCSV turns one JSON object into CSV columns and cells: origin
// objects into the origin_* columns, other objects into KEY_SUBKEY
// columns, lists joined by spaces, null as "". The cells are csvCell-safe.
func flattenCSV(prefix string, raw []byte) (cols, cells []string) {
	fields, err := objectFields(raw)
	if err != nil {
		panic(err) // the appenders write valid JSON
	}
	for _, fd := range fields {
		name := prefix + fd.key
		v := bytes.TrimSpace(fd.raw)
		switch {
		case fd.key == "origin":
			cols = append(cols, originCSVColumns...)
			cells = append(cells, originCSVFromJSON(v)...)
		case len(v) > 0 && v[0] == '{':
			c, x := flattenCSV(name+"_", v)
			cols, cells = append(cols, c...), append(cells, x...)
		default:
			cols = append(cols, name)
			cells = append(cells, csvCell(rawText(v)))
		}
	}
	return cols, cells
}

// originCSVFromJSON flattens an origin object (or null) as originCSV does.
func originCSVFromJSON(raw []byte) []string {
	out := make([]string, len(originCSVColumns))
	if string(raw) == "null" {
		return out
	}
	fields, _ := objectFields(raw)
	for _, fd := range fields {
		v := fd.raw
		if fd.key == "labels" {
			var ls []struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(v, &ls)
			names := make([]string, len(ls))
			for i, l := range ls {
				names[i] = l.Name
			}
			v, _ = json.Marshal(strings.Join(names, " "))
		}
		if i := slices.Index(originCSVColumns, "origin_"+fd.key); i >= 0 {
			out[i] = csvCell(rawText(v))
		}
	}
	return out
}

// writeJSONRowsCSV writes JSON rows as one CSV table; zero names the
// columns.
func writeJSONRowsCSV(w io.Writer, zero []byte, rows iter.Seq[[]byte]) error {
	header, _ := flattenCSV("", zero)
	return writeCSV(w, header, func(yield func([]string) bool) {
		for r := range rows {
			_, cells := flattenCSV("", r)
			if !yield(cells) {
				return
			}
		}
	})
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
	if err := writeFindingBlocks(w, findings); err != nil {
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
	rows, users, shown := topIntermediaryUsers(s.Intermediaries(), tableUserLimit)
	title := "Cloud intermediaries: mailboxes accessed through a cloud service holding the user's credentials (not the user's own device)"
	if shown < users {
		title = fmt.Sprintf("Cloud intermediaries: mailboxes accessed through a cloud service holding the user's credentials (not the user's own device; top %d of %d users by logins, all in --format json)", shown, users)
	}
	if err := writeTitle(w, title); err != nil {
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
		var network []string
		for i, a := range r.ASNs {
			network = append(network, asnCell(a, r.ASOrgs[i]))
		}
		if c := capList(r.Countries, 5); c != "" {
			network = append(network, c)
		}
		out = append(out, []string{
			tableUser(r.User, r.HasUser), dash(providerProduct(r.Provider, r.Product)),
			strconv.FormatInt(r.Count, 10), spanCell(r.First, r.Last), dash(addrs),
			dash(strings.Join(network, ", ")),
		})
	}
	return renderTable(w, []string{"user", "intermediary", "logins", "first – last", "addresses", "network"}, out, []int{2})
}

// topIntermediaryUsers returns the rows (sorted by user) of the limit
// users with the most logins through intermediaries, the first by name
// among equals, in their order; and how many users there are and are
// shown.
func topIntermediaryUsers(rows []Intermediary, limit int) (top []Intermediary, users, shown int) {
	type run struct {
		start, end int
		total      int64
	}
	var runs []run
	for i, r := range rows {
		if i == 0 || r.User != rows[i-1].User || r.HasUser != rows[i-1].HasUser {
			runs = append(runs, run{start: i, end: i})
		}
		runs[len(runs)-1].end = i + 1
		runs[len(runs)-1].total += r.Count
	}
	users = len(runs)
	if users <= limit {
		return rows, users, users
	}
	slices.SortFunc(runs, func(a, b run) int { return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.start, b.start)) })
	runs = runs[:limit]
	slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.start, b.start) })
	for _, r := range runs {
		top = append(top, rows[r.start:r.end]...)
	}
	return top, users, limit
}

// spanCell is a first–last pair for a table: the last without its date
// when it is the same day, one time when they are equal, "-" when unknown.
func spanCell(first, last time.Time) string {
	return dash(timeSpan(rules.Finding{First: first, Last: last}))
}

// networkCell is the AS and country of an origin, "-" when unknown.
func networkCell(asn uint32, org, country string) string {
	var parts []string
	if asn != 0 {
		parts = append(parts, asnCell(asn, org))
	}
	if country != "" {
		parts = append(parts, Sanitize(country))
	}
	return dash(strings.Join(parts, ", "))
}

func writeLoginsTable(w io.Writer, s *Summary) error {
	rows, users, shown := s.tableLogins(tableUserLimit, tableAddressLimit)
	title := "Logins per user and address (own devices and other networks; intermediaries are listed above)"
	switch {
	case shown < users:
		title = fmt.Sprintf("Logins per user and address (top %d of %d users by logins, all in --format json; own devices and other networks; intermediaries are listed above)", shown, users)
	case slices.ContainsFunc(rows, func(r loginRow) bool { return r.more > 0 }):
		title = fmt.Sprintf("Logins per user and address (at most %d addresses per user, all in --format json; own devices and other networks; intermediaries are listed above)", tableAddressLimit)
	}
	if err := writeTitle(w, title); err != nil {
		return err
	}
	var out [][]string
	for _, r := range rows {
		if r.more > 0 {
			out = append(out, []string{
				tableUser(r.User, r.HasUser), fmt.Sprintf("(+%d more addresses)", r.more), strconv.FormatInt(r.Count, 10),
				spanCell(r.First, r.Last), "-", "-", "-", "-",
			})
			continue
		}
		l := r.Login
		count := strconv.FormatInt(l.Count, 10)
		if l.Refused > 0 {
			count += fmt.Sprintf(" (%d refused)", l.Refused)
		}
		out = append(out, []string{
			tableUser(l.User, l.HasUser), dash(Sanitize(l.RemoteIP)), count, spanCell(l.First, l.Last),
			dash(strings.Join(l.Services, ", ")), l.TLS, originCell(l.Origin),
			networkCell(l.Origin.ASN, l.Origin.ASOrg, l.Origin.Country),
		})
	}
	if len(out) == 0 {
		return none(w)
	}
	return renderTable(w, []string{"user", "address", "logins", "first – last", "services", "tls", "origin", "network"}, out, []int{2})
}

func writeFailuresTable(w io.Writer, s *Summary) error {
	n := s.FailureAddresses()
	title := fmt.Sprintf("Failed logins and probes per address (%d addresses; probes are connections without a login attempt, not failures)", n)
	if n > tableFailureLimit {
		title = fmt.Sprintf("Failed logins and probes per address (top %d of %d addresses, all in --format json; probes are connections without a login attempt, not failures)", tableFailureLimit, n)
	}
	if d := s.FailuresNotTracked(); d > 0 {
		title = fmt.Sprintf("Failed logins and probes per address (top %d of %d addresses tracked, all of these in --format json; %d addresses with the fewest failures not tracked, counted in the totals only; probes are connections without a login attempt, not failures)", min(tableFailureLimit, n), n, d)
	}
	if err := writeTitle(w, title); err != nil {
		return err
	}
	if n == 0 {
		return none(w)
	}
	rows := s.topFailures(tableFailureLimit)
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		ex := make([]string, len(r.UserExamples))
		for i, u := range r.UserExamples {
			ex[i] = tableUser(u, true)
		}
		examples := strings.Join(ex, " ")
		if r.Users > len(ex) {
			examples += fmt.Sprintf(" (+%d)", r.Users-len(ex))
		}
		out = append(out, []string{
			dash(Sanitize(r.RemoteIP)), strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.Probes, 10),
			strconv.Itoa(r.Users), dash(examples), spanCell(r.First, r.Last),
			dash(strings.Join(r.Services, ", ")), originCell(r.Origin),
			networkCell(r.Origin.ASN, r.Origin.ASOrg, r.Origin.Country),
		})
	}
	return renderTable(w, []string{"address", "failures", "probes", "users", "user examples", "first – last", "services", "origin", "network"}, out, []int{1, 2, 3})
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
		out = append(out, []string{where(r.File, r.Line), dash(Sanitize(r.Program)), dash(Sanitize(r.Reason))})
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
		{"probes (connections without a login attempt)", i64(t.Probes)},
		{"login events (dovecot)", rc(t.Logins)},
		{"sasl events (postfix)", rc(t.SASL)},
		{"auth-process details (not counted as logins)", rc(t.AuthDetails)},
	}
	if t.Other.Total() > 0 {
		rows = append(rows, []string{"events of unknown kind", rc(t.Other)})
	}
	return renderTable(w, []string{"what", "count"}, rows, nil)
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
