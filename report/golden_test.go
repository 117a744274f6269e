package report

import (
	"bytes"
	"testing"
)

// renderEvents writes the fixture events in format f.
func renderEvents(t testing.TB, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewEventWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range fixtureEvents() {
		if err := w.Write(fe.ev, fe.o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderFindings(t testing.TB, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteFindings(&buf, f, fixtureFindings()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderScan(t testing.TB, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteScan(&buf, f, fixtureSummary(), fixtureFindings()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ext is the golden-file extension of a format.
func ext(f Format) string {
	switch f {
	case Table, GitHub:
		return string(f) + ".txt"
	}
	return string(f)
}

func TestGolden(t *testing.T) {
	for _, f := range []Format{JSONL, JSON, CSV, Table} {
		t.Run("events/"+string(f), func(t *testing.T) {
			golden(t, "events."+ext(f), renderEvents(t, f))
		})
	}
	for _, f := range Formats() {
		t.Run("findings/"+string(f), func(t *testing.T) {
			golden(t, "findings."+ext(f), renderFindings(t, f))
		})
	}
	for _, f := range []Format{Table, JSON, HTML} {
		t.Run("scan/"+string(f), func(t *testing.T) {
			golden(t, "scan."+ext(f), renderScan(t, f))
		})
	}
	// One table of a scan, in each format that shows one.
	for _, table := range ScanTables() {
		for _, f := range []Format{Table, JSONL, CSV} {
			t.Run("scan-"+table+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := WriteScanTable(&b, f, table, fixtureSummary(), fixtureFindings()); err != nil {
					t.Fatal(err)
				}
				golden(t, "scan-"+table+"."+ext(f), b.Bytes())
			})
		}
	}
}

func TestScanFindingsOnlyFormats(t *testing.T) {
	for _, f := range []Format{JSONL, GitHub, CSV} {
		t.Run(string(f), func(t *testing.T) {
			if got, want := renderScan(t, f), renderFindings(t, f); !bytes.Equal(got, want) {
				t.Errorf("WriteScan(%s) = %q, want the findings %q", f, got, want)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		name string
		run  func(*bytes.Buffer) error
		want string
	}{
		{"events jsonl", func(b *bytes.Buffer) error { w, _ := NewEventWriter(b, JSONL); return w.Close() }, ""},
		{"events json", func(b *bytes.Buffer) error { w, _ := NewEventWriter(b, JSON); return w.Close() }, "[]\n"},
		{"events csv", func(b *bytes.Buffer) error { w, _ := NewEventWriter(b, CSV); return w.Close() },
			"time,host,program,kind,service,result,user,rip,lip,tls,method,session,attempts,reason,file,line,origin_class,origin_provider,origin_product,origin_labels,origin_confidence,origin_asn,origin_country,secured,refused\n"},
		{"findings jsonl", func(b *bytes.Buffer) error { return WriteFindings(b, JSONL, nil) }, ""},
		{"findings github", func(b *bytes.Buffer) error { return WriteFindings(b, GitHub, nil) }, ""},
		{"findings json", func(b *bytes.Buffer) error { return WriteFindings(b, JSON, nil) }, "{\"findings\": []}\n"},
		{"findings table", func(b *bytes.Buffer) error { return WriteFindings(b, Table, nil) }, "Findings (0)\n(none)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.run(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestEmptyScan(t *testing.T) {
	for _, f := range []Format{Table, JSON, CSV} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteScan(&b, f, NewSummary(), nil); err != nil {
				t.Fatal(err)
			}
			golden(t, "scan-empty."+ext(f), b.Bytes())
		})
	}
}
