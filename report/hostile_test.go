package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailaudit/mailaudit/rules"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "alice@example.org", "alice@example.org"},
		{"empty", "", ""},
		{"accented and CJK", "jürgen.müller 山田", "jürgen.müller 山田"},
		{"windows domain", `CORP\alice`, `CORP\\alice`},
		// A literal "\x1b" must not look like an escaped ESC byte.
		{"literal escape text", `\x1b[2J`, `\\x1b[2J`},
		{"escaped and real", "\\\x1b", `\\\x1b`},
		{"csi clear screen", "\x1b[2J", `\x1b[2J`},
		{"osc title bel", "\x1b]0;pwned\x07x", `\x1b]0;pwned\x07x`},
		{"osc title st", "\x1b]0;pwned\x1b\\x", `\x1b]0;pwned\x1b\\x`},
		{"newline cr tab", "a\nb\rc\td", `a\nb\rc\td`},
		{"nul and del", "a\x00b\x7fc", `a\x00b\x7fc`},
		{"c1 csi", "a\u009b31mb", `a\u009b31mb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"invalid utf8", "bad\xff\xfeutf8", "bad\ufffd\ufffdutf8"},
		{"truncated rune", "x\xe5\xb1", "x\ufffd\ufffd"},
		{"bidi override", "admin\u202egpj.exe", `admin\u202egpj.exe`},
		{"bidi isolates", "\u2066x\u2069\u2067\u2068", `\u2066x\u2069\u2067\u2068`},
		{"lrm rlm", "a\u200eb\u200f", `a\u200eb\u200f`},
		{"zero width", "ad\u200bmin", `ad\u200bmin`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"bom", "\ufeffx", `\ufeffx`},
		{"private use beyond bmp", "\U000f0000", `\U000f0000`},
		{"replacement char kept", "\ufffd", "\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeNoAlloc(t *testing.T) {
	for _, s := range []string{"alice@example.org", "jürgen 山田 😀", "CORP/alice", ""} {
		if n := testing.AllocsPerRun(100, func() { _ = Sanitize(s) }); n != 0 {
			t.Errorf("Sanitize(%q) allocates %v times", s, n)
		}
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", `\t=1`},
		{"\r=1", `\r=1`},
		{"a=1", "a=1"},
		{"\x1b[2J", `\x1b[2J`},
		{`\x1b[2J`, `\\x1b[2J`},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := csvCell(tt.in); got != tt.want {
				t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// checkTerminalSafe fails if out holds anything a terminal or spreadsheet
// could act on: invalid UTF-8, a control character other than \n, or a
// non-printable rune (C1, bidi, zero width, …).
func checkTerminalSafe(t *testing.T, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("output is not valid UTF-8")
	}
	for i, r := range string(out) {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200b || r == 0x2028 {
			t.Errorf("unsafe rune %U at byte %d: %q", r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
}

func TestHostileTextOutputs(t *testing.T) {
	outputs := map[string][]byte{
		"events table":    renderEvents(t, Table),
		"events csv":      renderEvents(t, CSV),
		"findings table":  renderFindings(t, Table),
		"findings csv":    renderFindings(t, CSV),
		"findings github": renderFindings(t, GitHub),
		"scan table":      renderScan(t, Table),
		"scan csv":        renderScan(t, CSV),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			checkTerminalSafe(t, out)
			if !strings.HasSuffix(name, "csv") {
				return
			}
			recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			formula := false
			for _, rec := range recs {
				for _, cell := range rec {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("CSV cell %q starts a formula", cell)
					}
					formula = formula || strings.HasPrefix(cell, "'=HYPERLINK") || strings.HasPrefix(cell, "'-cmd")
				}
			}
			if !formula {
				t.Errorf("no defused formula cell: the fixture is not exercised")
			}
		})
	}
	// The fixtures must be in the tables, made visible, not dropped.
	var b bytes.Buffer
	if err := WriteScan(&Page{Writer: &b}, Table, fixtureSummary(), fixtureFindings()); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	for _, want := range []string{`\x1b[2J\x1b]0;pwned\x07root`, `a\nb`, "bad\ufffd\ufffdutf8", `admin\u202egpj.exe`} {
		if !strings.Contains(table, want) {
			t.Errorf("scan table does not show %q", want)
		}
	}
}

func TestHostileJSONOutputs(t *testing.T) {
	outputs := map[string][]byte{
		"events json":    renderEvents(t, JSON),
		"events jsonl":   renderEvents(t, JSONL),
		"findings json":  renderFindings(t, JSON),
		"findings jsonl": renderFindings(t, JSONL),
		"scan json":      renderScan(t, JSON),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			checkTerminalSafe(t, out)
			docs := [][]byte{out}
			if strings.HasSuffix(name, "jsonl") {
				docs = jsonLines(t, out)
			}
			for _, d := range docs {
				if !json.Valid(d) {
					t.Errorf("invalid JSON: %s", d)
				}
			}
			if !bytes.Contains(out, []byte(`\u001b[2J`)) {
				t.Errorf("ESC is not written as \\u001b")
			}
		})
	}
}

func TestAppendStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "alice", userANSI, userFormula, userNewline, userBidi, userC1,
		"quote\" back\\slash", "nul\x00", "\U0001F600 emoji", "\U000f0000 private", "\u2028\u2029", "\x7f"} {
		t.Run(s, func(t *testing.T) {
			b := appendString(nil, s)
			var got string
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if got != s {
				t.Errorf("round trip of %q gave %q via %s", s, got, b)
			}
			want, _ := json.Marshal(s)
			var viaStd string
			_ = json.Unmarshal(want, &viaStd)
			if viaStd != got {
				t.Errorf("decodes to %q, encoding/json's to %q", got, viaStd)
			}
		})
	}
	// Invalid UTF-8 becomes U+FFFD per byte, as encoding/json does.
	got := appendString(nil, userInvalid)
	std, _ := json.Marshal(userInvalid)
	var a, b string
	_ = json.Unmarshal(got, &a)
	_ = json.Unmarshal(std, &b)
	if a != b {
		t.Errorf("invalid UTF-8: %q, encoding/json %q", a, b)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"alice", userANSI, userInvalid, userBidi, userC1, "\U000f0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); utf8.ValidString(s) && got != want {
			t.Fatalf("%q decoded to %q", s, got)
		}
		for _, c := range b {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("raw control byte %#x in %s", c, b)
			}
		}
		if s := Sanitize(s); !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
			t.Fatalf("Sanitize left a control character: %q", s)
		}
	})
}

func TestGitHub(t *testing.T) {
	tests := []struct {
		name string
		f    rules.Finding
		want string
	}{
		{"error with file and line", rules.Finding{Rule: "brute-force", Severity: rules.Critical, Message: "m",
			Evidence: []string{"/var/log/mail.log:12", "x:1"}},
			"::error file=/var/log/mail.log,line=12,title=brute-force::m\n"},
		{"warning no evidence", rules.Finding{Rule: "r", Severity: rules.Medium, Message: "50% done"},
			"::warning title=r::50%25 done\n"},
		{"notice", rules.Finding{Rule: "r", Severity: rules.Info, Message: "m"}, "::notice title=r::m\n"},
		{"property escaping", rules.Finding{Rule: "a,b:c%d\ne", Severity: rules.Low, Message: "m",
			Evidence: []string{"C:\\dir,x\\mail.log:7"}},
			"::notice file=C%3A\\dir%2Cx\\mail.log,line=7,title=a%2Cb%3Ac%25d\\ne::m\n"},
		{"evidence without line", rules.Finding{Rule: "r", Severity: rules.High, Message: "m",
			Evidence: []string{"mail.log:x"}},
			"::error file=mail.log%3Ax,title=r::m\n"},
		{"hostile message", rules.Finding{Rule: "r", Severity: rules.High, Message: "a\r\n::add-mask::x\x1b[31m",
			User: "u\nv", HasUser: true, RemoteIP: "192.0.2.1"},
			"::error title=r::a\\r\\n::add-mask::x\\x1b[31m (user \"u\\nv\", address 192.0.2.1)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendGitHub(nil, tt.f)); got != tt.want {
				t.Errorf("AppendGitHub\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	// The raw escaping, for values that Sanitize would not have touched.
	if got := string(appendGitHubData(nil, "a%b\r\nc")); got != "a%25b%0D%0Ac" {
		t.Errorf("appendGitHubData = %q", got)
	}
	if got := string(appendGitHubProperty(nil, "a%b\r\n:,c")); got != "a%25b%0D%0A%3A%2Cc" {
		t.Errorf("appendGitHubProperty = %q", got)
	}
}
