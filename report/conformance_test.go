package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// The contract keys, in order.
var (
	eventKeys = []string{"time", "host", "program", "kind", "service", "result", "user", "rip", "lip",
		"tls", "method", "session", "attempts", "reason", "file", "line", "origin", "secured", "refused"}
	findingKeys = []string{"rule", "severity", "user", "rip", "addresses", "origin", "first", "last",
		"count", "evidence", "message"}
	originKeys = []string{"class", "provider", "product", "labels", "confidence", "asn", "country"}
	labelKeys  = []string{"name", "prefix", "source", "date", "detail"}
)

// objectKeys returns the top-level keys of the JSON object in data, in
// order, and the decoded object.
func objectKeys(t *testing.T, data []byte) ([]string, map[string]json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s (%v)", data, err)
	}
	var keys []string
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		m[k] = v
	}
	return keys, m
}

// checkOrigin checks an origin value: null or an object with every key.
func checkOrigin(t *testing.T, raw json.RawMessage) {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	keys, m := objectKeys(t, raw)
	if !slices.Equal(keys, originKeys) {
		t.Errorf("origin keys %v, want %v", keys, originKeys)
	}
	if string(m["labels"]) == "null" {
		t.Errorf("origin labels is null, want a list")
	}
	var labels []json.RawMessage
	if err := json.Unmarshal(m["labels"], &labels); err != nil {
		t.Fatalf("origin labels: %v", err)
	}
	for _, l := range labels {
		if keys, _ := objectKeys(t, l); !slices.Equal(keys, labelKeys) {
			t.Errorf("label keys %v, want %v", keys, labelKeys)
		}
	}
}

func checkRecord(t *testing.T, data []byte, want []string) map[string]json.RawMessage {
	t.Helper()
	keys, m := objectKeys(t, data)
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n got %v\nwant %v\nin %s", keys, want, data)
	}
	checkOrigin(t, m["origin"])
	return m
}

func jsonLines(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, slices.Clone(sc.Bytes()))
	}
	return out
}

func TestConformanceEvents(t *testing.T) {
	n := len(fixtureEvents())
	t.Run("jsonl", func(t *testing.T) {
		lines := jsonLines(t, renderEvents(t, JSONL))
		if len(lines) != n {
			t.Fatalf("%d lines, want %d", len(lines), n)
		}
		for i, l := range lines {
			m := checkRecord(t, l, eventKeys)
			fe := fixtureEvents()[i]
			if fe.ev.HasUser {
				var u string
				if err := json.Unmarshal(m["user"], &u); err != nil {
					t.Fatal(err)
				}
				if u != strings.ToValidUTF8(fe.ev.User, "\ufffd\ufffd") && u != fe.ev.User {
					t.Errorf("user %q, want %q", u, fe.ev.User)
				}
			} else if string(m["user"]) != "null" {
				t.Errorf("user %s, want null", m["user"])
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		var arr []json.RawMessage
		if err := json.Unmarshal(renderEvents(t, JSON), &arr); err != nil {
			t.Fatal(err)
		}
		if len(arr) != n {
			t.Fatalf("%d elements, want %d", len(arr), n)
		}
		for _, e := range arr {
			checkRecord(t, e, eventKeys)
		}
	})
	t.Run("csv", func(t *testing.T) {
		checkCSV(t, renderEvents(t, CSV), eventColumns, n)
		for _, k := range eventKeys {
			if k != "origin" && !slices.Contains(eventColumns, k) {
				t.Errorf("CSV has no column %q", k)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		// Unlimited width: one line per row (the default width shows
		// this many columns as records).
		var b bytes.Buffer
		w, _ := NewEventWriter(&Page{Writer: &b}, Table)
		for _, fe := range fixtureEvents() {
			if err := w.Write(fe.ev, fe.o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, c := range eventTableColumns {
			if !strings.Contains(out, "| "+c+" ") {
				t.Errorf("table has no column %q", c)
			}
		}
		if got := strings.Count(out, "/var/log/mail.log:"); got != n {
			t.Errorf("table has %d rows, want %d", got, n)
		}
	})
}

func checkCSV(t *testing.T, data []byte, header []string, rows int) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != rows+1 {
		t.Fatalf("%d records, want %d", len(recs), rows+1)
	}
	if !slices.Equal(recs[0], header) {
		t.Errorf("header %v, want %v", recs[0], header)
	}
	return recs[1:]
}

func TestConformanceFindings(t *testing.T) {
	n := len(fixtureFindings())
	t.Run("jsonl", func(t *testing.T) {
		lines := jsonLines(t, renderFindings(t, JSONL))
		if len(lines) != n {
			t.Fatalf("%d lines, want %d", len(lines), n)
		}
		for i, l := range lines {
			m := checkRecord(t, l, findingKeys)
			f := fixtureFindings()[i]
			switch {
			case f.RemoteIP == "" && (string(m["rip"]) != "null" || !strings.HasPrefix(string(m["addresses"]), "[")):
				t.Errorf("rip %s addresses %s, want null and a list", m["rip"], m["addresses"])
			case f.RemoteIP != "" && len(f.Addresses) == 0 && string(m["addresses"]) != "null":
				t.Errorf("addresses %s, want null", m["addresses"])
			}
			if !strings.HasPrefix(string(m["evidence"]), "[") {
				t.Errorf("evidence %s, want a list", m["evidence"])
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		keys, m := objectKeys(t, renderFindings(t, JSON))
		if !slices.Equal(keys, []string{"findings"}) {
			t.Fatalf("keys %v", keys)
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(m["findings"], &arr); err != nil || len(arr) != n {
			t.Fatalf("findings %d (%v), want %d", len(arr), err, n)
		}
		for _, e := range arr {
			checkRecord(t, e, findingKeys)
		}
	})
	t.Run("csv", func(t *testing.T) {
		checkCSV(t, renderFindings(t, CSV), findingCSVColumns, n)
	})
	t.Run("github", func(t *testing.T) {
		lines := strings.Split(strings.TrimSuffix(string(renderFindings(t, GitHub)), "\n"), "\n")
		if len(lines) != n {
			t.Fatalf("%d lines, want %d", len(lines), n)
		}
		for i, l := range lines {
			f := fixtureFindings()[i]
			if !strings.Contains(l, "title="+f.Rule+"::") {
				t.Errorf("line %q has no title=%s", l, f.Rule)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		out := string(renderFindings(t, Table))
		// One block per finding: its header names severity and rule,
		// and the whole message is there.
		for _, f := range fixtureFindings() {
			if !strings.Contains(out, strings.ToUpper(f.Severity.String())+"  "+Sanitize(f.Rule)) {
				t.Errorf("no block header for %s", f.Rule)
			}
			for _, word := range strings.Fields(Sanitize(f.Message)) {
				if !strings.Contains(out, word) {
					t.Errorf("message word %q of %s missing", word, f.Rule)
				}
			}
		}
	})
}

func TestConformanceScanJSON(t *testing.T) {
	keys, top := objectKeys(t, renderScan(t, JSON))
	if !slices.Equal(keys, []string{"summary", "findings"}) {
		t.Fatalf("top keys %v", keys)
	}
	skeys, sum := objectKeys(t, top["summary"])
	if want := []string{"intermediaries", "logins", "failures", "malformed", "totals"}; !slices.Equal(skeys, want) {
		t.Errorf("summary keys %v, want %v", skeys, want)
	}
	sections := []struct {
		name string
		keys []string
		n    int
	}{
		{"intermediaries", []string{"user", "provider", "product", "count", "first", "last", "addresses", "address_count", "countries", "asns"}, 2},
		{"logins", []string{"user", "rip", "count", "refused", "first", "last", "services", "tls", "origin"}, 8},
		{"failures", []string{"rip", "count", "probes", "events", "users", "user_examples", "first", "last", "services", "origin"}, 2},
	}
	for _, sec := range sections {
		t.Run(sec.name, func(t *testing.T) {
			var arr []json.RawMessage
			if err := json.Unmarshal(sum[sec.name], &arr); err != nil {
				t.Fatal(err)
			}
			if len(arr) != sec.n {
				t.Errorf("%d rows, want %d", len(arr), sec.n)
			}
			for _, e := range arr {
				checkRecord(t, e, sec.keys)
			}
		})
	}
	var findings []json.RawMessage
	if err := json.Unmarshal(top["findings"], &findings); err != nil || len(findings) != len(fixtureFindings()) {
		t.Fatalf("findings: %d, %v", len(findings), err)
	}
	for _, f := range findings {
		checkRecord(t, f, findingKeys)
	}
	var totals struct {
		Lines  int64 `json:"lines"`
		Events map[string]map[string]int64
	}
	if err := json.Unmarshal(sum["totals"], &totals); err != nil {
		t.Fatal(err)
	}
	if totals.Lines != 1000 || totals.Events["auth"]["failure"] != 1 || totals.Events["login"]["success"] != 11 {
		t.Errorf("totals %+v", totals)
	}
}

// TestWriteAfterClose checks that Close flushes once and Write after it
// fails, for every writer.
func TestWriteAfterClose(t *testing.T) {
	fe := fixtureEvents()[0]
	for _, f := range []Format{JSONL, JSON, CSV, Table} {
		t.Run("events/"+string(f), func(t *testing.T) {
			var b bytes.Buffer
			w, _ := NewEventWriter(&b, f)
			if err := w.Write(fe.ev, fe.o); err != nil {
				t.Fatal(err)
			}
			if f == JSONL && b.Len() != 0 {
				t.Errorf("JSONL wrote before Close or a full buffer")
			}
			if err := w.Close(); err != nil || b.Len() == 0 {
				t.Fatalf("Close: %v, %d bytes", err, b.Len())
			}
			n := b.Len()
			if err := w.Close(); err != nil || b.Len() != n {
				t.Errorf("second Close: %v, wrote %d more bytes", err, b.Len()-n)
			}
			if err := w.Write(fe.ev, fe.o); err == nil {
				t.Errorf("Write after Close succeeded")
			}
		})
	}
	for _, f := range Formats() {
		t.Run("findings/"+string(f), func(t *testing.T) {
			var b bytes.Buffer
			w, _ := NewFindingWriter(&b, f)
			if err := w.Write(fixtureFindings()[0]); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil || b.Len() == 0 {
				t.Fatalf("Close: %v, %d bytes", err, b.Len())
			}
			if err := w.Write(fixtureFindings()[0]); err == nil {
				t.Errorf("Write after Close succeeded")
			}
		})
	}
}

func TestFormats(t *testing.T) {
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
		if got, err := ParseFormat(strings.ToUpper(string(f))); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v: any case is taken", strings.ToUpper(string(f)), got, err)
		}
	}
	tests := []struct{ in, err string }{
		{"yaml", `unknown format "yaml" (want table, json, jsonl, csv, github or html)`},
		{"\x1b[2J", `unknown format "\x1b[2J" (want table, json, jsonl, csv, github or html)`},
		{"", `unknown format "" (want table, json, jsonl, csv, github or html)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseFormat(tt.in)
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseFormat(%q) error %v, want %s", tt.in, err, tt.err)
			}
		})
	}
	if _, err := NewEventWriter(nil, GitHub); err == nil {
		t.Errorf("NewEventWriter(github) succeeded")
	}
	if err := WriteScan(nil, "xml", NewSummary(), nil); err == nil {
		t.Errorf("WriteScan(xml) succeeded")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	fe := fixtureEvents()[0]
	for _, f := range []Format{JSONL, JSON, CSV, Table} {
		t.Run("events/"+string(f), func(t *testing.T) {
			w, _ := NewEventWriter(failWriter{}, f)
			_ = w.Write(fe.ev, fe.o)
			_ = w.Flush()
			if err := w.Close(); err == nil || err.Error() != "disk full" {
				t.Errorf("Close = %v, want disk full", err)
			}
			if err := w.Write(fe.ev, fe.o); err == nil {
				t.Errorf("Write after an error succeeded")
			}
		})
	}
	for _, f := range Formats() {
		t.Run("findings/"+string(f), func(t *testing.T) {
			if err := WriteFindings(failWriter{}, f, fixtureFindings()); err == nil || err.Error() != "disk full" {
				t.Errorf("WriteFindings = %v, want disk full", err)
			}
		})
	}
	for _, f := range Formats() {
		t.Run("scan/"+string(f), func(t *testing.T) {
			if err := WriteScan(failWriter{}, f, fixtureSummary(), fixtureFindings()); err == nil {
				t.Errorf("WriteScan succeeded")
			}
		})
	}
}

func TestFlush(t *testing.T) {
	fe := fixtureEvents()[0]
	for _, f := range []Format{JSONL, JSON, CSV} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			w, _ := NewEventWriter(&b, f)
			if err := w.Write(fe.ev, fe.o); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "203.0.113.5") {
				t.Errorf("Flush did not write the record: %q", b.String())
			}
		})
	}
}
