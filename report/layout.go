package report

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultWidth is the width, in terminal columns, that tables and finding
// blocks are fitted to when they are written to a plain io.Writer rather
// than a [Page].
const DefaultWidth = 100

// A Page is where the table format writes for a person: the io.Writer and
// the width, in terminal columns, its tables and finding blocks are fitted
// to. Width 0 means unlimited: nothing is wrapped. Pass a *Page wherever an
// io.Writer is taken; the table-format writers look for it (a writer that
// is not a *Page gets [DefaultWidth]).
type Page struct {
	io.Writer
	Width int
}

// widthOf returns the width w's tables are fitted to, 0 for unlimited.
func widthOf(w io.Writer) int {
	switch p := w.(type) {
	case *Page:
		return max(p.Width, 0)
	case *htmlPage:
		return 0
	}
	return DefaultWidth
}

// minColumn is the narrowest a shrunk column gets, in terminal columns.
const minColumn = 8

// displayWidth returns how many terminal columns s takes: wide East Asian
// runes count two, combining marks none. s must be sanitized (no control
// characters).
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		return 0
	case isWide(r):
		return 2
	}
	return 1
}

// isWide reports the East Asian wide and fullwidth ranges and the emoji
// blocks, which terminals draw two columns wide.
func isWide(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals … symbols
		r >= 0x3041 && r <= 0x33ff, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // emoji
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B…
		return true
	}
	return false
}

// wrapText breaks s into lines at most width columns wide: at spaces when
// it can, inside a word when the word alone is wider. Nothing is dropped:
// the lines joined again hold every character of s (the spaces at a break
// excepted). width <= 0 returns s as one line.
func wrapText(s string, width int) []string {
	if width <= 0 || displayWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		lines = append(lines, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.Split(s, " ") {
		ww := displayWidth(word)
		switch {
		case curW > 0 && curW+1+ww <= width:
			cur.WriteByte(' ')
			cur.WriteString(word)
			curW += 1 + ww
			continue
		case curW > 0:
			flush()
		}
		// word starts a line; split it when it is too wide.
		for ww > width {
			i, w := 0, 0
			for j, r := range word {
				rw := runeWidth(r)
				if w+rw > width && w > 0 {
					i = j
					break
				}
				w += rw
				i = j + utf8.RuneLen(r)
			}
			lines = append(lines, word[:i])
			word = word[i:]
			ww = displayWidth(word)
		}
		cur.WriteString(word)
		curW = ww
	}
	flush()
	return lines
}

// emptyCell reports a cell that says nothing: "" or "-".
func emptyCell(s string) bool { return s == "" || s == "-" }

// WriteTable writes one table for a person, fitted to w's width as every
// table of this package is (see [Page] and renderTable): for commands with
// tables of their own. Cells must already be sanitized ([Sanitize]); right
// lists the columns to right-align.
func WriteTable(w io.Writer, header []string, rows [][]string, right []int) error {
	return renderTable(w, header, rows, right)
}

// renderTable writes one ASCII table fitted to w's width (see [Page]).
// Every cell must already be sanitized. right lists the columns to
// right-align (numbers). Columns whose cells are all empty ("" or "-") are
// left out. When the table is wider than the page, the widest columns are
// narrowed and their values wrap inside them, over several lines; nothing
// is cut. ASCII borders are used whether or not w is a terminal, so the
// output is the same everywhere and survives any locale. Written to an
// HTML page, it is an HTML table.
func renderTable(w io.Writer, header []string, rows [][]string, right []int) error {
	keep := make([]int, 0, len(header))
	for c := range header {
		if len(rows) == 0 || slices.ContainsFunc(rows, func(r []string) bool { return c < len(r) && !emptyCell(r[c]) }) {
			keep = append(keep, c)
		}
	}
	cell := func(r []string, c int) string {
		if c < len(r) {
			return r[c]
		}
		return ""
	}
	hdr := make([]string, len(keep))
	body := make([][]string, len(rows))
	alignRight := make([]bool, len(keep))
	for i, c := range keep {
		hdr[i] = header[c]
		alignRight[i] = slices.Contains(right, c)
	}
	for j, r := range rows {
		body[j] = make([]string, len(keep))
		for i, c := range keep {
			body[j][i] = cell(r, c)
		}
	}
	if hp, ok := w.(*htmlPage); ok {
		return hp.table(hdr, body, alignRight)
	}
	widths := fitColumns(hdr, body, widthOf(w))
	if widths == nil {
		return renderRecords(w, hdr, body)
	}
	var buf bytes.Buffer
	border := func() {
		buf.WriteByte('+')
		for _, cw := range widths {
			buf.WriteString(strings.Repeat("-", cw+2))
			buf.WriteByte('+')
		}
		buf.WriteByte('\n')
	}
	// line writes one table row, wrapped; it returns how many lines.
	line := func(cells []string, header bool) int {
		wrapped := make([][]string, len(cells))
		n := 1
		for i, s := range cells {
			wrapped[i] = wrapText(s, widths[i])
			n = max(n, len(wrapped[i]))
		}
		for l := range n {
			buf.WriteByte('|')
			for i := range cells {
				s := ""
				if l < len(wrapped[i]) {
					s = wrapped[i][l]
				}
				pad := strings.Repeat(" ", max(widths[i]-displayWidth(s), 0))
				buf.WriteByte(' ')
				if alignRight[i] && !header {
					buf.WriteString(pad)
					buf.WriteString(s)
				} else {
					buf.WriteString(s)
					buf.WriteString(pad)
				}
				buf.WriteString(" |")
			}
			buf.WriteByte('\n')
		}
		return n
	}
	border()
	line(hdr, true)
	border()
	// Rows of several lines are told apart by a border between rows.
	multi := false
	for _, r := range body {
		for i, s := range r {
			if displayWidth(s) > widths[i] {
				multi = true
			}
		}
	}
	for j, r := range body {
		if j > 0 && multi {
			border()
		}
		line(r, false)
	}
	border()
	_, err := w.Write(buf.Bytes())
	return err
}

// maxWordColumn caps the width a column keeps so that its longest word
// (an IPv6 address, a time) is not broken.
const maxWordColumn = 24

// atomColumn is the longest word (an IPv4 address, a time) that is only
// broken when nothing else helps.
const atomColumn = 15

// renderRecords writes a table too wide for the page as records: per row,
// the first cell on a line of its own, then one "header: value" line per
// other non-empty cell, indented and wrapped; rows separated by blank
// lines.
func renderRecords(w io.Writer, header []string, rows [][]string) error {
	width := widthOf(w)
	const indent = "    "
	var buf bytes.Buffer
	for j, r := range rows {
		if j > 0 {
			buf.WriteByte('\n')
		}
		for i, s := range r {
			if i == 0 {
				for k, l := range wrapText(header[0]+": "+s, width) {
					if k > 0 {
						buf.WriteString(indent)
					}
					buf.WriteString(l)
					buf.WriteByte('\n')
				}
				continue
			}
			if emptyCell(s) {
				continue
			}
			for _, l := range wrapText(header[i]+": "+s, max(width-len(indent), minColumn)) {
				buf.WriteString(indent)
				buf.WriteString(l)
				buf.WriteByte('\n')
			}
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// fitColumns returns the width of each column: its widest cell, narrowed
// when the table would be wider than limit (0: no limit). Each column
// first gets what its longest word needs (at most maxWordColumn, at least
// its header's longest word), then the room left is shared out: columns
// that need little get all they need, the widest share the rest. Long
// words (over atomColumn) may be broken, down to minColumn; when the short
// ones (addresses, times) would have to be broken too, fitColumns returns
// nil: the table does not fit.
func fitColumns(header []string, rows [][]string, limit int) []int {
	n := len(header)
	natural := make([]int, n)
	word := make([]int, n)
	longestWord := func(s string) int {
		m := 0
		for _, w := range strings.Split(s, " ") {
			m = max(m, displayWidth(w))
		}
		return m
	}
	for i, h := range header {
		natural[i] = displayWidth(h)
		word[i] = longestWord(h)
	}
	for _, r := range rows {
		for i, s := range r {
			natural[i] = max(natural[i], displayWidth(s))
			word[i] = max(word[i], min(longestWord(s), maxWordColumn))
		}
	}
	widths := slices.Clone(natural)
	if limit <= 0 {
		return widths
	}
	avail := limit - (3*n + 1) // "| " before each cell, " |" … and the last "|"
	if sum(natural) <= avail {
		return widths
	}
	floor := make([]int, n)
	for i := range floor {
		floor[i] = min(natural[i], word[i])
	}
	if sum(floor) > avail {
		// Lower the floors to a common level until they fit: first only
		// those of long words (organisation names, hostile values), so
		// that addresses and times stay whole when they can, then all,
		// never below minColumn.
		capTo := func(level, above int) {
			for i, f := range floor {
				if word[i] > above {
					floor[i] = min(f, level)
				}
			}
		}
		for level := maxWordColumn; level >= minColumn && sum(floor) > avail; level-- {
			capTo(level, atomColumn)
		}
		if sum(floor) > avail {
			// Addresses and times would have to be broken: the
			// caller shows records instead.
			return nil
		}
	}
	// Water-filling of what is left over the floors: the columns that
	// need less than a fair share get what they need, the others share.
	extra := max(avail-sum(floor), 0)
	need := make([]int, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
		need[i] = natural[i] - floor[i]
	}
	slices.SortStableFunc(order, func(a, b int) int { return need[a] - need[b] })
	for k, c := range order {
		share := extra / (n - k)
		give := min(need[c], share)
		widths[c] = floor[c] + give
		extra -= give
	}
	return widths
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}
