package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// errQuestionFormat is the error of a report writer given a format it does
// not write.
func errQuestionFormat(f Format) error {
	return fmt.Errorf("unknown format %q (want %s)", string(f), formatList([]Format{Table, JSON, JSONL, CSV, HTML}))
}

// mechanismClassesNote explains the classes under the mechanisms table.
const mechanismClassesNote = `Only successful logins count. password = basic authentication (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-*, NTLM, APOP, OTP, SKEY, RPA): these clients break when only OAuth is allowed; token = XOAUTH2, OAUTHBEARER.`

// WriteMechanisms writes the answer to "who still uses basic
// authentication?" in format f:
//
//   - [Table]: the mechanisms per user and address, then the totals per
//     mechanism, then a note on the classes;
//
//   - [JSON]: one object, keys always present in this order (unknown
//     strings and times are null, origin as in the event record):
//
//     {"mechanisms": [{"user", "rip", "count", "first", "last",
//     "services", "password", "token", "mechanisms": [{"name", "class",
//     "count", "first", "last"}], "other_mechanisms", "origin"}],
//     "totals": [{"name", "class", "count", "users", "addresses",
//     "first", "last"}]}
//
//   - [JSONL]: the elements of "mechanisms", one per line;
//
//   - [CSV]: one row per user, address and mechanism, with the columns
//     user, rip, mechanism, class, count, first, last, services, the
//     origin_* columns and as_org.
//
// [HTML] is a self-contained page of the table form. [GitHub] is an
// error.
func WriteMechanisms(w io.Writer, f Format, m *Mechanisms) error {
	switch f {
	case Table:
		return writeMechanismsTable(w, m)
	case HTML:
		return writeHTMLDoc(w, "Authentication mechanisms", func(p *htmlPage) error { return writeMechanismsTable(p, m) })
	case JSON, JSONL:
		return writeMechanismsJSON(w, f, m)
	case CSV:
		return writeMechanismsCSV(w, m)
	}
	return errQuestionFormat(f)
}

// mechanismsCell shows a row's mechanisms: "PLAIN (12), XOAUTH2 (3)".
func mechanismsCell(uses []MechanismUse, other int64) string {
	parts := make([]string, 0, len(uses)+1)
	for _, u := range uses {
		parts = append(parts, mechanismName(u.Name)+" ("+strconv.FormatInt(u.Count, 10)+")")
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("other (%d)", other))
	}
	return dash(strings.Join(parts, ", "))
}

// mechanismName is the table form of a mechanism name.
func mechanismName(n string) string {
	if n == "" {
		return "unknown"
	}
	return Sanitize(n)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func writeMechanismsTable(w io.Writer, m *Mechanisms) error {
	if err := writeTitle(w, "Authentication mechanisms per user and address"); err != nil {
		return err
	}
	rows := m.Rows()
	if len(rows) == 0 {
		if err := none(w); err != nil {
			return err
		}
	} else {
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, []string{
				tableUser(r.User, r.HasUser), dash(Sanitize(r.RemoteIP)), strconv.FormatInt(r.Count, 10),
				yesNo(r.Password), mechanismsCell(r.Mechanisms, r.OtherMechanisms),
				dash(strings.Join(r.Services, ",")), tableTime(r.First), tableTime(r.Last), originCell(r.Origin),
			})
		}
		if err := renderTable(w, []string{"user", "address", "logins", "password", "mechanisms", "services", "first", "last", "origin"}, out, []int{2}); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	if err := writeTitle(w, "Logins per mechanism"); err != nil {
		return err
	}
	totals := m.Totals()
	if len(totals) == 0 {
		if err := none(w); err != nil {
			return err
		}
	} else {
		out := make([][]string, 0, len(totals))
		for _, t := range totals {
			out = append(out, []string{
				mechanismName(t.Name), string(t.Class), strconv.FormatInt(t.Count, 10),
				strconv.Itoa(t.Users), strconv.Itoa(t.Addresses), tableTime(t.First), tableTime(t.Last),
			})
		}
		if err := renderTable(w, []string{"mechanism", "class", "logins", "users", "addresses", "first", "last"}, out, []int{2, 3, 4}); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n"+mechanismClassesNote+"\n")
	return err
}

// appendMechanismUses appends the "mechanisms" array of a row.
func appendMechanismUses(b []byte, uses []MechanismUse) []byte {
	b = append(b, '[')
	for i, u := range uses {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendStringOrNull(b, u.Name)
		b = append(b, `,"class":`...)
		b = appendString(b, string(u.Class))
		b = append(b, `,"count":`...)
		b = appendInt(b, u.Count)
		b = append(b, `,"first":`...)
		b = appendTime(b, u.First)
		b = append(b, `,"last":`...)
		b = appendTime(b, u.Last)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendMechanismRow(b []byte, r MechanismRow) []byte {
	b = append(b, `{"user":`...)
	b = appendUser(b, r.User, r.HasUser)
	b = append(b, `,"rip":`...)
	b = appendString(b, r.RemoteIP)
	b = append(b, `,"count":`...)
	b = appendInt(b, r.Count)
	b = append(b, `,"first":`...)
	b = appendTime(b, r.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, r.Last)
	b = append(b, `,"services":`...)
	b = appendStrings(b, r.Services)
	b = append(b, `,"password":`...)
	b = appendBool(b, r.Password)
	b = append(b, `,"token":`...)
	b = appendBool(b, r.Token)
	b = append(b, `,"mechanisms":`...)
	b = appendMechanismUses(b, r.Mechanisms)
	b = append(b, `,"other_mechanisms":`...)
	b = appendInt(b, r.OtherMechanisms)
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, r.Origin)
	return append(b, '}')
}

func writeMechanismsJSON(w io.Writer, f Format, m *Mechanisms) error {
	bw := &bufWriter{w: w, buf: make([]byte, 0, flushAt+4096)}
	rows := m.Rows()
	if f == JSONL {
		for _, r := range rows {
			bw.buf = appendMechanismRow(bw.buf, r)
			bw.buf = append(bw.buf, '\n')
			bw.maybeFlush()
		}
		return bw.flush()
	}
	bw.buf = append(bw.buf, `{"mechanisms": [`...)
	for i, r := range rows {
		bw.buf = sep(bw.buf, i)
		bw.buf = appendMechanismRow(bw.buf, r)
		bw.maybeFlush()
	}
	bw.buf = endList(bw.buf, len(rows) > 0)
	bw.buf = append(bw.buf, ",\n"+`"totals": [`...)
	totals := m.Totals()
	for i, t := range totals {
		b := sep(bw.buf, i)
		b = append(b, `{"name":`...)
		b = appendStringOrNull(b, t.Name)
		b = append(b, `,"class":`...)
		b = appendString(b, string(t.Class))
		b = append(b, `,"count":`...)
		b = appendInt(b, t.Count)
		b = append(b, `,"users":`...)
		b = appendInt(b, int64(t.Users))
		b = append(b, `,"addresses":`...)
		b = appendInt(b, int64(t.Addresses))
		b = append(b, `,"first":`...)
		b = appendTime(b, t.First)
		b = append(b, `,"last":`...)
		b = appendTime(b, t.Last)
		bw.buf = append(b, '}')
		bw.maybeFlush()
	}
	bw.buf = endList(bw.buf, len(totals) > 0)
	bw.buf = append(bw.buf, "}\n"...)
	return bw.flush()
}

var mechanismCSVColumns = append(append([]string{"user", "rip", "mechanism", "class", "count", "first", "last", "services"},
	originCSVColumns...), "as_org")

func writeMechanismsCSV(w io.Writer, m *Mechanisms) error {
	return writeCSV(w, mechanismCSVColumns, func(yield func([]string) bool) {
		for _, r := range m.Rows() {
			uses := r.Mechanisms
			if r.OtherMechanisms > 0 {
				uses = append(uses, MechanismUse{Name: "other", Class: OtherAuth, Count: r.OtherMechanisms})
			}
			for _, u := range uses {
				if !yield(withOriginCSV([]string{csvCell(r.User), csvCell(r.RemoteIP), csvCell(u.Name), string(u.Class),
					strconv.FormatInt(u.Count, 10), csvTime(u.First), csvTime(u.Last), strings.Join(r.Services, " ")}, r.Origin)) {
					return
				}
			}
		}
	})
}

// WriteInsecure writes the answer to "is anything still logging in
// insecurely?" in format f. A cleartext login is a successful login on a
// connection without TLS that Dovecot did not mark secured (loopback,
// login_trusted_networks); lines that cannot tell (Postfix SASL lines) are
// not counted as insecure, and the output says how many there were.
//
//   - [Table]: the cleartext logins per user, address and service; the
//     services that accepted them; the totals, with a note on the logins
//     that could not be judged;
//
//   - [JSON]: one object, keys always present in this order (unknown
//     strings and times are null, origin as in the event record):
//
//     {"insecure": [{"user", "rip", "service", "count", "first", "last",
//     "mechanisms": [{"name", "class", "count", "first", "last"}],
//     "other_mechanisms", "origin"}],
//     "services": [{"service", "count", "users", "addresses", "first",
//     "last"}],
//     "totals": {"logins", "tls", "secured", "cleartext", "tls_unknown"}}
//
//   - [JSONL]: the elements of "insecure", one per line;
//
//   - [CSV]: one row per user, address and service, with the columns
//     user, rip, service, count, first, last, mechanisms (names joined
//     by spaces), the origin_* columns and as_org.
//
// [HTML] is a self-contained page of the table form. [GitHub] is an
// error.
func WriteInsecure(w io.Writer, f Format, s *Insecure) error {
	switch f {
	case Table:
		return writeInsecureTable(w, s)
	case HTML:
		return writeHTMLDoc(w, "Cleartext logins", func(p *htmlPage) error { return writeInsecureTable(p, s) })
	case JSON, JSONL:
		return writeInsecureJSON(w, f, s)
	case CSV:
		return writeInsecureCSV(w, s)
	}
	return errQuestionFormat(f)
}

func writeInsecureTable(w io.Writer, s *Insecure) error {
	if err := writeTitle(w, "Cleartext logins: no TLS and not a secured (loopback or trusted) connection"); err != nil {
		return err
	}
	rows := s.Rows()
	if len(rows) == 0 {
		if err := none(w); err != nil {
			return err
		}
	} else {
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, []string{
				tableUser(r.User, r.HasUser), dash(Sanitize(r.RemoteIP)), dash(Sanitize(r.Service)),
				strconv.FormatInt(r.Count, 10), mechanismsCell(r.Mechanisms, r.OtherMechanisms),
				tableTime(r.First), tableTime(r.Last), originCell(r.Origin),
			})
		}
		if err := renderTable(w, []string{"user", "address", "service", "logins", "mechanisms", "first", "last", "origin"}, out, []int{3}); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	if err := writeTitle(w, "Services that accepted cleartext logins"); err != nil {
		return err
	}
	svcs := s.Services()
	if len(svcs) == 0 {
		if err := none(w); err != nil {
			return err
		}
	} else {
		out := make([][]string, 0, len(svcs))
		for _, v := range svcs {
			out = append(out, []string{
				dash(Sanitize(v.Service)), strconv.FormatInt(v.Count, 10), strconv.Itoa(v.Users),
				strconv.Itoa(v.Addresses), tableTime(v.First), tableTime(v.Last),
			})
		}
		if err := renderTable(w, []string{"service", "logins", "users", "addresses", "first", "last"}, out, []int{1, 2, 3}); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	t := s.Totals()
	if err := writeTitle(w, "Successful logins by encryption"); err != nil {
		return err
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	if err := renderTable(w, []string{"what", "logins"}, [][]string{
		{"all successful logins", i64(t.Logins)},
		{"over TLS", i64(t.TLS)},
		{"secured (loopback or trusted network, no TLS)", i64(t.Secured)},
		{"cleartext", i64(t.Cleartext)},
		{"cannot tell (e.g. Postfix SASL lines)", i64(t.TLSUnknown)},
	}, []int{1}); err != nil {
		return err
	}
	if t.TLSUnknown > 0 {
		_, err := fmt.Fprintf(w, "\nNote: %d successful logins come from lines that do not say whether TLS was used (e.g. Postfix SASL lines); they are not counted as cleartext. Check smtpd_tls_auth_only in Postfix.\n", t.TLSUnknown)
		return err
	}
	return nil
}

func appendInsecureRow(b []byte, r InsecureRow) []byte {
	b = append(b, `{"user":`...)
	b = appendUser(b, r.User, r.HasUser)
	b = append(b, `,"rip":`...)
	b = appendString(b, r.RemoteIP)
	b = append(b, `,"service":`...)
	b = appendStringOrNull(b, r.Service)
	b = append(b, `,"count":`...)
	b = appendInt(b, r.Count)
	b = append(b, `,"first":`...)
	b = appendTime(b, r.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, r.Last)
	b = append(b, `,"mechanisms":`...)
	b = appendMechanismUses(b, r.Mechanisms)
	b = append(b, `,"other_mechanisms":`...)
	b = appendInt(b, r.OtherMechanisms)
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, r.Origin)
	return append(b, '}')
}

func writeInsecureJSON(w io.Writer, f Format, s *Insecure) error {
	bw := &bufWriter{w: w, buf: make([]byte, 0, flushAt+4096)}
	rows := s.Rows()
	if f == JSONL {
		for _, r := range rows {
			bw.buf = appendInsecureRow(bw.buf, r)
			bw.buf = append(bw.buf, '\n')
			bw.maybeFlush()
		}
		return bw.flush()
	}
	bw.buf = append(bw.buf, `{"insecure": [`...)
	for i, r := range rows {
		bw.buf = sep(bw.buf, i)
		bw.buf = appendInsecureRow(bw.buf, r)
		bw.maybeFlush()
	}
	bw.buf = endList(bw.buf, len(rows) > 0)
	bw.buf = append(bw.buf, ",\n"+`"services": [`...)
	svcs := s.Services()
	for i, v := range svcs {
		b := sep(bw.buf, i)
		b = append(b, `{"service":`...)
		b = appendStringOrNull(b, v.Service)
		b = append(b, `,"count":`...)
		b = appendInt(b, v.Count)
		b = append(b, `,"users":`...)
		b = appendInt(b, int64(v.Users))
		b = append(b, `,"addresses":`...)
		b = appendInt(b, int64(v.Addresses))
		b = append(b, `,"first":`...)
		b = appendTime(b, v.First)
		b = append(b, `,"last":`...)
		b = appendTime(b, v.Last)
		bw.buf = append(b, '}')
	}
	bw.buf = endList(bw.buf, len(svcs) > 0)
	t := s.Totals()
	b := append(bw.buf, ",\n"+`"totals": {"logins":`...)
	b = appendInt(b, t.Logins)
	b = append(b, `,"tls":`...)
	b = appendInt(b, t.TLS)
	b = append(b, `,"secured":`...)
	b = appendInt(b, t.Secured)
	b = append(b, `,"cleartext":`...)
	b = appendInt(b, t.Cleartext)
	b = append(b, `,"tls_unknown":`...)
	b = appendInt(b, t.TLSUnknown)
	bw.buf = append(b, "}}\n"...)
	return bw.flush()
}

// mechanismNames joins the names of uses with spaces, "other" for the
// logins beyond MechanismLimit; unnamed mechanisms are left out.
func mechanismNames(uses []MechanismUse, other int64) string {
	names := make([]string, 0, len(uses)+1)
	for _, u := range uses {
		if u.Name != "" {
			names = append(names, u.Name)
		}
	}
	if other > 0 {
		names = append(names, "other")
	}
	return strings.Join(names, " ")
}

var insecureCSVColumns = append(append([]string{"user", "rip", "service", "count", "first", "last", "mechanisms"},
	originCSVColumns...), "as_org")

func writeInsecureCSV(w io.Writer, s *Insecure) error {
	return writeCSV(w, insecureCSVColumns, func(yield func([]string) bool) {
		for _, r := range s.Rows() {
			if !yield(withOriginCSV([]string{csvCell(r.User), csvCell(r.RemoteIP), csvCell(r.Service), strconv.FormatInt(r.Count, 10),
				csvTime(r.First), csvTime(r.Last), csvCell(mechanismNames(r.Mechanisms, r.OtherMechanisms))}, r.Origin)) {
				return
			}
		}
	})
}

// WriteIntermediaries writes the answer to "which users' mail lives in
// someone else's cloud?": s.Intermediaries(), per user and intermediary
// with first and last seen, in format f:
//
//   - [Table]: the intermediaries table of `mailaudit scan`;
//
//   - [JSON]: one object {"intermediaries": [...]} whose elements are
//     those of the "intermediaries" list of WriteScan's summary: {"user",
//     "provider", "product", "count", "first", "last", "addresses",
//     "address_count", "countries", "asns": [{"asn", "org"}]};
//
//   - [JSONL]: the same elements, one per line;
//
//   - [CSV]: one row per user and intermediary, with the columns user,
//     provider, product, count, first, last, addresses (space-separated),
//     address_count, countries (space-separated), asns (space-separated)
//     and as_orgs (the organisation of each ASN, in the same order,
//     separated by "; ").
//
// [HTML] is a self-contained page of the table form. [GitHub] is an
// error.
func WriteIntermediaries(w io.Writer, f Format, s *Summary) error {
	switch f {
	case Table:
		return writeIntermediariesTable(w, s)
	case HTML:
		return writeHTMLDoc(w, "Cloud intermediaries", func(p *htmlPage) error { return writeIntermediariesTable(p, s) })
	case JSON, JSONL:
		return writeIntermediariesJSON(w, f, s)
	case CSV:
		return writeIntermediariesCSV(w, s)
	}
	return errQuestionFormat(f)
}

// appendIntermediary appends one intermediary object with the keys of the
// scan summary's "intermediaries" list.
func appendIntermediary(b []byte, r Intermediary) []byte {
	b = append(b, `{"user":`...)
	b = appendUser(b, r.User, r.HasUser)
	b = append(b, `,"provider":`...)
	b = appendStringOrNull(b, r.Provider)
	b = append(b, `,"product":`...)
	b = appendStringOrNull(b, r.Product)
	b = append(b, `,"count":`...)
	b = appendInt(b, r.Count)
	b = append(b, `,"first":`...)
	b = appendTime(b, r.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, r.Last)
	b = append(b, `,"addresses":`...)
	b = appendStrings(b, r.Addresses)
	b = append(b, `,"address_count":`...)
	b = appendInt(b, int64(r.AddressCount))
	b = append(b, `,"countries":`...)
	b = appendStrings(b, r.Countries)
	b = append(b, `,"asns":[`...)
	for j, a := range r.ASNs {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"asn":`...)
		b = strconv.AppendUint(b, uint64(a), 10)
		b = append(b, `,"org":`...)
		b = appendStringOrNull(b, r.ASOrgs[j])
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func writeIntermediariesJSON(w io.Writer, f Format, s *Summary) error {
	bw := &bufWriter{w: w, buf: make([]byte, 0, flushAt+4096)}
	rows := s.Intermediaries()
	if f == JSONL {
		for _, r := range rows {
			bw.buf = appendIntermediary(bw.buf, r)
			bw.buf = append(bw.buf, '\n')
			bw.maybeFlush()
		}
		return bw.flush()
	}
	bw.buf = append(bw.buf, `{"intermediaries": [`...)
	for i, r := range rows {
		bw.buf = sep(bw.buf, i)
		bw.buf = appendIntermediary(bw.buf, r)
		bw.maybeFlush()
	}
	bw.buf = endList(bw.buf, len(rows) > 0)
	bw.buf = append(bw.buf, "}\n"...)
	return bw.flush()
}

var intermediaryCSVColumns = []string{"user", "provider", "product", "count", "first", "last",
	"addresses", "address_count", "countries", "asns", "as_orgs"}

func writeIntermediariesCSV(w io.Writer, s *Summary) error {
	return writeCSV(w, intermediaryCSVColumns, func(yield func([]string) bool) {
		for _, r := range s.Intermediaries() {
			asns := make([]string, len(r.ASNs))
			for i, a := range r.ASNs {
				asns[i] = strconv.FormatUint(uint64(a), 10)
			}
			if !yield([]string{csvCell(r.User), csvCell(r.Provider), csvCell(r.Product), strconv.FormatInt(r.Count, 10),
				csvTime(r.First), csvTime(r.Last), csvCell(strings.Join(r.Addresses, " ")), strconv.Itoa(r.AddressCount),
				csvCell(strings.Join(r.Countries, " ")), strings.Join(asns, " "), csvCell(strings.Join(r.ASOrgs, "; "))}) {
				return
			}
		}
	})
}
