package report

import (
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// errClosed is returned by a Write after Close.
var errClosed = errors.New("report: write after close")

// tableTimeLayout is how tables show times: in the time's own zone, to the
// second.
const tableTimeLayout = "2006-01-02 15:04:05"

// writeTitle writes a section title for a person, wrapped to the width.
func writeTitle(w io.Writer, title string) error {
	if h, ok := w.(*htmlPage); ok {
		h.title(title)
		return nil
	}
	_, err := io.WriteString(w, strings.Join(wrapText(title, widthOf(w)), "\n")+"\n")
	return err
}

// tableTime formats t for a table, "-" when zero.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(tableTimeLayout)
}

// tableUser shows a user: "-" when the line had none or an empty one
// (user=<>: a connection that never named a user is no user), else
// sanitized.
func tableUser(u string, has bool) string {
	if !has || u == "" {
		return "-"
	}
	return Sanitize(u)
}

// dash returns s, or "-" when s is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// where formats a file and line as "file:line", "-" when unknown.
func where(file string, line int) string {
	if file == "" && line == 0 {
		return "-"
	}
	return Sanitize(file) + ":" + strconv.Itoa(line)
}

// originCell is the table form of an origin: "class", or
// "class: provider product", "-" when not classified.
func originCell(o ipranges.Origin) string {
	if o.IsZero() {
		return "-"
	}
	var b strings.Builder
	b.WriteString(Sanitize(string(o.Class)))
	name := providerProduct(o.Provider, o.Product)
	if name != "" {
		b.WriteString(": ")
		b.WriteString(name)
	}
	return b.String()
}

// providerProduct joins a provider and a product for a person, sanitized.
func providerProduct(provider, product string) string {
	switch {
	case provider == "" && product == "":
		return ""
	case product == "":
		return Sanitize(provider)
	case provider == "":
		return Sanitize(product)
	}
	return Sanitize(provider) + " " + Sanitize(product)
}

// asnCell formats an ASN with its organisation, "-" when unknown.
func asnCell(asn uint32, org string) string {
	if asn == 0 {
		return "-"
	}
	s := "AS" + strconv.FormatUint(uint64(asn), 10)
	if org != "" {
		s += " " + Sanitize(org)
	}
	return s
}

// csvTime formats t for CSV (RFC 3339 with fraction when present), empty
// when zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// originCSVColumns names the columns originCSV fills.
var originCSVColumns = []string{"origin_class", "origin_provider", "origin_product", "origin_labels", "origin_confidence", "origin_asn", "origin_country"}

// withOriginCSV appends o's originCSV cells and its AS organisation to
// row: the tail of every per-address CSV table.
func withOriginCSV(row []string, o ipranges.Origin) []string {
	return append(append(row, originCSV(o)...), csvCell(o.ASOrg))
}

// writeCSV writes header, then each row of rows, as one CSV table. The
// cells must already be safe (csvCell): writeCSV only quotes.
func writeCSV(w io.Writer, header []string, rows iter.Seq[[]string]) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for row := range rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// originCSV flattens an origin into the origin_* CSV cells: class,
// provider, product, labels (names joined by spaces), confidence, asn,
// country; all empty when o is the zero Origin.
func originCSV(o ipranges.Origin) []string {
	if o.IsZero() {
		return []string{"", "", "", "", "", "", ""}
	}
	names := make([]string, len(o.Labels))
	for i, l := range o.Labels {
		names[i] = l.Name
	}
	asn := ""
	if o.ASN != 0 {
		asn = strconv.FormatUint(uint64(o.ASN), 10)
	}
	return []string{
		csvCell(string(o.Class)), csvCell(o.Provider), csvCell(o.Product),
		csvCell(strings.Join(names, " ")), csvCell(string(o.Confidence)), asn, csvCell(o.Country),
	}
}
