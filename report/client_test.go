package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// clientEvent is a decoded "imap-login: ID sent: name=…" line.
func clientEvent(name string) parse.Event {
	return parse.Event{Time: time.Date(2025, 11, 22, 10, 0, 0, 0, time.UTC), Program: "dovecot",
		Kind: parse.KindClient, Service: "imap", RemoteIP: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"),
		Session: "S1", Client: name}
}

func TestClientEventNotCounted(t *testing.T) {
	s := NewSummary()
	s.Add(clientEvent("Thunderbird"), ipranges.Origin{})
	if tot := s.Totals(); tot != (Totals{}) {
		t.Errorf("a client event changed the totals: %+v", tot)
	}
	if l := s.Logins(); len(l) != 0 {
		t.Errorf("a client event counted as a login: %+v", l)
	}
}

func TestClientEventRecord(t *testing.T) {
	tests := []struct {
		name string
		ev   parse.Event
		want string // the client key's raw JSON, "" when absent
	}{
		{"client", clientEvent("Thunderbird"), `"Thunderbird"`},
		{"escaped", clientEvent("a\"b"), `"a\"b"`},
		{"login has no client key", fixtureEvents()[0].ev, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendEvent(nil, tt.ev, ipranges.Origin{})
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			got, ok := m["client"]
			if tt.want == "" {
				if ok {
					t.Errorf("unexpected client key in %s", b)
				}
				if len(m) != len(eventKeys) {
					t.Errorf("%d keys, want %d", len(m), len(eventKeys))
				}
				return
			}
			if string(got) != tt.want || string(m["kind"]) != `"client"` || string(m["result"]) != "null" {
				t.Errorf("record %s: client %s kind %s result %s", b, got, m["kind"], m["result"])
			}
			if !bytes.HasSuffix(b, []byte(`,"client":`+tt.want+`}`)) {
				t.Errorf("client is not the last key: %s", b)
			}
		})
	}
}

func TestClientEventCSVAndTable(t *testing.T) {
	for _, f := range []Format{CSV, Table} {
		var buf bytes.Buffer
		w, err := NewEventWriter(&buf, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(clientEvent("=K-9\x1b"), ipranges.Origin{}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s: escape byte in output %q", f, out)
		}
		if f == CSV {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || len(rows[1]) != len(rows[0]) {
				t.Fatalf("csv rows %q", rows)
			}
			if !strings.Contains(rows[1][13], "client") || !strings.Contains(rows[1][13], "K-9") || rows[0][13] != "reason" {
				t.Errorf("csv reason cell %q (header %q)", rows[1][13], rows[0][13])
			}
		} else if !strings.Contains(out, "client =K-9") {
			t.Errorf("table lacks the client: %q", out)
		}
	}
}
