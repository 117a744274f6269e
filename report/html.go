package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/rules"
)

// htmlPage is the io.Writer the table-format writers are given for the
// HTML format: renderTable and writeTitle write HTML to it, and any other
// text written to it becomes an escaped paragraph. Every value is
// HTML-escaped here, once: the writers hand over sanitized text.
type htmlPage struct {
	buf bytes.Buffer
}

// Write takes plain text for a person and keeps it as paragraphs.
func (h *htmlPage) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		h.buf.WriteString("<p>")
		h.buf.WriteString(html.EscapeString(l))
		h.buf.WriteString("</p>\n")
	}
	return len(p), nil
}

// title writes a section heading.
func (h *htmlPage) title(s string) {
	h.buf.WriteString("<h2>")
	h.buf.WriteString(html.EscapeString(s))
	h.buf.WriteString("</h2>\n")
}

// table writes an HTML table; cells are escaped.
func (h *htmlPage) table(header []string, rows [][]string, right []bool) error {
	b := &h.buf
	b.WriteString("<table>\n<thead><tr>")
	for _, c := range header {
		b.WriteString("<th>")
		b.WriteString(html.EscapeString(c))
		b.WriteString("</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range rows {
		b.WriteString("<tr>")
		for i, c := range r {
			if right[i] {
				b.WriteString(`<td class="n">`)
			} else {
				b.WriteString("<td>")
			}
			b.WriteString(html.EscapeString(c))
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return nil
}

var _ io.Writer = (*htmlPage)(nil)

// htmlStyle is the page's only style sheet: inline, readable on screen, in
// print and in mail clients that keep <style>.
const htmlStyle = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1a1a1a;max-width:80em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
h3{font-size:1em;margin:0 0 .3em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f0f0f0}td.n{text-align:right}
.finding{border-left:.4em solid #888;padding:.4em .8em;margin:.6em 0;background:#fafafa;page-break-inside:avoid}
.finding p{margin:.2em 0;word-break:break-word}
.critical{border-color:#7b0000}.high{border-color:#c00}.medium{border-color:#e69500}.low{border-color:#3a7bd5}.info{border-color:#888}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
svg{max-width:100%;height:auto}
@media print{body{margin:0}h2{page-break-after:avoid}}`

// writeHTMLDoc writes a whole page: the head, the title, what body writes
// to the page, the end.
func writeHTMLDoc(w io.Writer, title string, body func(*htmlPage) error) error {
	p := &htmlPage{}
	p.buf.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	p.buf.WriteString(html.EscapeString("mailaudit: " + title))
	p.buf.WriteString("</title>\n<style>\n")
	p.buf.WriteString(htmlStyle)
	p.buf.WriteString("\n</style>\n</head>\n<body>\n<h1>")
	p.buf.WriteString(html.EscapeString(title))
	p.buf.WriteString("</h1>\n")
	if err := body(p); err != nil {
		return err
	}
	p.buf.WriteString("<p class=\"foot\">Made by mailaudit.</p>\n</body>\n</html>\n")
	_, err := w.Write(p.buf.Bytes())
	return err
}

// WriteScanHTML writes a scan as one self-contained HTML page: inline CSS
// and inline SVG, no script, font, style sheet or image from anywhere
// else, so that it reads the same in a browser, printed and in a mail
// client. In order: the logins, failed logins and probes per hour (per day
// for more than four days) as a bar chart; the findings, one block each
// with the message and evidence; the cloud intermediaries per user; the
// top failing sources; the logins per country when GeoIP data was there;
// the logins per user and address; malformed lines; totals. Every logged
// value is HTML-escaped (user names are chosen by whoever connects).
func WriteScanHTML(w io.Writer, s *Summary, findings []rules.Finding) error {
	title := "Mail logins"
	if hs := s.Hours(); len(hs) > 0 {
		title += ": " + timeSpan(rules.Finding{First: hs[0].Start, Last: hs[len(hs)-1].Start})
	}
	return writeHTMLDoc(w, title, func(p *htmlPage) error {
		t := s.Totals()
		fmt.Fprintf(&p.buf, "<p>%d successful logins, %d failed attempts, %d probes, %d findings.</p>\n",
			t.Logins.Success+t.SASL.Success, failedAttempts(s), t.Probes, len(findings))
		p.title("Logins and failures over time")
		writeTimeChart(&p.buf, s.Hours())
		if err := writeFindingBlocks(p, findings); err != nil {
			return err
		}
		for _, section := range []func(io.Writer, *Summary) error{writeIntermediariesTable, writeFailuresTable} {
			if err := section(p, s); err != nil {
				return err
			}
		}
		writeCountries(p, s)
		for _, section := range []func(io.Writer, *Summary) error{writeLoginsTable, writeMalformedTable, writeTotalsTable} {
			if err := section(p, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// failedAttempts sums the failed attempts of every address.
func failedAttempts(s *Summary) int64 { return s.FailedAttempts() }

// Colours of the chart series.
const (
	colourLogins   = "#2e7d32"
	colourFailures = "#c62828"
	colourProbes   = "#9e9e9e"
)

// writeTimeChart writes the logins, failures and probes per bucket as an
// SVG bar chart, three bars per bucket, with a legend; text when there is
// nothing to chart.
func writeTimeChart(b *bytes.Buffer, hs []HourCounts) {
	if len(hs) == 0 {
		b.WriteString("<p>No timed events.</p>\n")
		return
	}
	var top int64 = 1
	for _, h := range hs {
		top = max(top, h.Logins, h.Failures, h.Probes)
	}
	const (
		height = 200.0
		left   = 48.0
		bottom = 40.0
	)
	slot := max(min(36.0, 900.0/float64(len(hs))), 6.0)
	bar := slot / 4
	width := left + slot*float64(len(hs)) + 10
	daily := len(hs) > 1 && hs[1].Start.Sub(hs[0].Start) > 2*time.Hour
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="logins, failures and probes per %s" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="10">`+"\n",
		map[bool]string{true: "day", false: "hour"}[daily], width, height+bottom, width, height+bottom)
	// Axis and the top value.
	fmt.Fprintf(b, `<line x1="%.0f" y1="0" x2="%.0f" y2="%.0f" stroke="#999"/>`+"\n", left, left, height)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#999"/>`+"\n", left, height, width-10, height)
	fmt.Fprintf(b, `<text x="%.0f" y="10" text-anchor="end">%d</text>`+"\n", left-4, top)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end">0</text>`+"\n", left-4, height)
	label := max(1, len(hs)/12) // at most about 12 axis labels
	for i, h := range hs {
		x := left + slot*float64(i) + bar/2
		for j, v := range []struct {
			n      int64
			colour string
			what   string
		}{{h.Logins, colourLogins, "logins"}, {h.Failures, colourFailures, "failed attempts"}, {h.Probes, colourProbes, "probes"}} {
			if v.n == 0 {
				continue
			}
			bh := height * float64(v.n) / float64(top)
			fmt.Fprintf(b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d %s</title></rect>`+"\n",
				strings.ReplaceAll(v.what, " ", "-"), x+bar*float64(j), height-bh, bar, bh, v.colour, h.Start.Format("2006-01-02 15:04"), v.n, v.what)
		}
		if i%label == 0 {
			text := h.Start.Format("15h")
			if daily {
				text = h.Start.Format("01-02")
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%.0f">%s</text>`+"\n", x, height+14, text)
		}
	}
	b.WriteString("</svg>\n")
	fmt.Fprintf(b, `<p class="legend"><span style="background:%s"></span>logins<span style="background:%s"></span>failed attempts<span style="background:%s"></span>probes (no login attempt)</p>`+"\n",
		colourLogins, colourFailures, colourProbes)
}

// writeCountries writes the logins and failures per country, as a table
// and a bar chart, when any address had a country (GeoIP data present).
func writeCountries(p *htmlPage, s *Summary) {
	type counts struct{ logins, failures int64 }
	by := map[string]*counts{}
	get := func(c string) *counts {
		if by[c] == nil {
			by[c] = &counts{}
		}
		return by[c]
	}
	for l := range s.AllLogins() {
		if c := l.Origin.Country; c != "" {
			get(c).logins += l.Count
		}
	}
	for f := range s.AllFailures() {
		if c := f.Origin.Country; c != "" {
			get(c).failures += f.Count
		}
	}
	if len(by) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(by))
	slices.SortStableFunc(names, func(a, b string) int {
		return cmp.Compare(by[b].logins+by[b].failures, by[a].logins+by[a].failures)
	})
	p.title("Countries (GeoIP)")
	var top int64 = 1
	for _, n := range names {
		top = max(top, by[n].logins, by[n].failures)
	}
	const rowH, left, barW = 18.0, 40.0, 400.0
	fmt.Fprintf(&p.buf, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="logins and failed attempts per country" width="%.0f" height="%.0f" font-family="sans-serif" font-size="10">`+"\n",
		left+barW+60, rowH*float64(len(names))+4)
	for i, n := range names {
		y := rowH * float64(i)
		fmt.Fprintf(&p.buf, `<text x="0" y="%.0f">%s</text>`+"\n", y+12, html.EscapeString(Sanitize(n)))
		lw := barW * float64(by[n].logins) / float64(top)
		fw := barW * float64(by[n].failures) / float64(top)
		fmt.Fprintf(&p.buf, `<rect x="%.0f" y="%.0f" width="%.1f" height="7" fill="%s"><title>%d logins</title></rect>`+"\n", left, y+2, lw, colourLogins, by[n].logins)
		fmt.Fprintf(&p.buf, `<rect x="%.0f" y="%.0f" width="%.1f" height="7" fill="%s"><title>%d failed attempts</title></rect>`+"\n", left, y+9, fw, colourFailures, by[n].failures)
	}
	p.buf.WriteString("</svg>\n")
	rows := make([][]string, len(names))
	for i, n := range names {
		rows[i] = []string{Sanitize(n), strconv.FormatInt(by[n].logins, 10), strconv.FormatInt(by[n].failures, 10)}
	}
	_ = p.table([]string{"country", "logins", "failed attempts"}, rows, []bool{false, true, true})
}
