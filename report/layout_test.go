package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestWrapText(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"alice", 5, []string{"alice"}},
		{"alice", 0, []string{"alice"}},
		{"alice bob", 5, []string{"alice", "bob"}},
		{"alice bob carol", 9, []string{"alice bob", "carol"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"a abcdefghij", 4, []string{"a", "abcd", "efgh", "ij"}},
		{"日本語テキスト", 4, []string{"日本", "語テ", "キス", "ト"}},
		{"", 3, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := wrapText(tt.in, tt.width)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("wrapText(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
			for _, l := range got {
				if tt.width > 0 && displayWidth(l) > tt.width {
					t.Errorf("line %q wider than %d", l, tt.width)
				}
			}
		})
	}
}

func TestRenderTableFits(t *testing.T) {
	long := strings.Repeat("word ", 60) + "END"
	header := []string{"user", "address", "message", "country"}
	rows := [][]string{
		{"alice", "203.0.113.5", long, "-"},
		{"bob", "2001:db8::1", "short", ""},
	}
	for _, width := range []int{20, 40, 60, 80, 100, 0} {
		var b bytes.Buffer
		if err := renderTable(&Page{Writer: &b, Width: width}, header, rows, nil); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if width > 0 && displayWidth(l) > width {
				t.Errorf("width %d: line %d columns wide: %q", width, displayWidth(l), l)
			}
		}
		if strings.Contains(out, "country") {
			t.Errorf("width %d: the all-empty column country is shown:\n%s", width, out)
		}
		if strings.Contains(out, "…") {
			t.Errorf("width %d: a value was cut:\n%s", width, out)
		}
		// Every word of the long value is there, and its end.
		if got := strings.Count(out, "word"); got != 60 {
			t.Errorf("width %d: %d of 60 words shown", width, got)
		}
		if !strings.Contains(out, "END") {
			t.Errorf("width %d: the end of the long value is missing", width)
		}
		if width == 0 && strings.Count(out, "\n") != 6 {
			t.Errorf("unlimited width: want one line per row:\n%s", out)
		}
	}
}

func TestFitColumnsKeepsNarrowColumns(t *testing.T) {
	w := fitColumns([]string{"n", "text"}, [][]string{{"12", strings.Repeat("x", 200)}}, 50)
	if w[0] != 2 {
		t.Errorf("narrow column width %d, want 2", w[0])
	}
	if total := w[0] + w[1] + 3*2 + 1; total != 50 {
		t.Errorf("table %d wide, want 50", total)
	}
}

func TestRenderTableRecordsWhenTooNarrow(t *testing.T) {
	header := []string{"address", "first", "last", "services"}
	rows := [][]string{{"2001:db8::1234:5678", "2026-11-22 10:00:01", "2026-11-22 10:00:09", "imap"}}
	var b bytes.Buffer
	if err := renderTable(&Page{Writer: &b, Width: 40}, header, rows, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"address: 2001:db8::1234:5678\n", "    first: 2026-11-22 10:00:01\n", "    services: imap\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
